"""Typed settings, read once from the environment and passed in; never a patched global."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from xinyong.clock import SYSTEM_CLOCK, Clock, StartedClock

_PACKAGE = Path(__file__).resolve().parent


def bundled_catalog_dir() -> Path:
    """The catalogue that ships with this copy of xinyong.

    An installed wheel carries it inside the package (``setup.py`` copies the source tree's
    ``catalog/`` there); a source checkout, editable install included, has it beside the
    package. ``XINYONG_CATALOG_DIR`` points the platform at another copy instead.
    """
    installed = _PACKAGE / "_bundled_catalog"
    return installed if installed.is_dir() else _PACKAGE.parent / "catalog"


DEFAULT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="XINYONG_", extra="ignore", populate_by_name=True, arbitrary_types_allowed=True
    )

    # DATABASE_URL is the conventional name; XINYONG_DATABASE_URL wins when both are set.
    database_url: str = Field(
        default="sqlite:///var/xinyong.db",
        validation_alias=AliasChoices("XINYONG_DATABASE_URL", "DATABASE_URL"),
    )
    catalog_dir: Path = Field(default_factory=bundled_catalog_dir)
    env: str = "development"
    # Rows handled per chunk while ingesting: bounds memory whatever the file size.
    ingest_chunk_rows: int = 5000
    # Cells checked column by column before the row checker (xinyong/ingest/columnar.py): true
    # always, false never (the row checker alone: the same outcome), unset for files of 16 MiB
    # or more (ingest.service.COLUMNAR_MIN_BYTES).
    ingest_columnar: bool | None = None
    # SQLite page cache (KiB). Big enough that index maintenance of a million-row load stays
    # in memory (perf-baseline: the 2 MB default makes loads 2x slower), small enough for the
    # 500 MB peak-memory budget of a 1M-row ingest.
    sqlite_cache_kib: int = 200_000
    # How long a writer waits for SQLite's one write lock before giving up (the web answers
    # 503 with Retry-After, the command line exits 3). A delivery holds the lock for its whole
    # transaction; readers (WAL) never wait.
    db_busy_timeout_s: float = 5.0

    # -- the web application ---------------------------------------------------------------
    # Signs nothing by itself but seeds CSRF tokens and report numbers' HMACs; the default is
    # refused in production (issue 3: "refuses to start in production mode with default secrets").
    secret_key: str = DEFAULT_SECRET
    # Where links in reports and notifications point (the QR code of a credit report).
    public_base_url: str = "http://127.0.0.1:8000"
    # Files the platform keeps: scans of paper authorisations, uploaded deliveries.
    data_dir: Path = Path("var/data")
    session_hours: int = 8
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated,
    # e.g. "127.0.0.1,10.0.0.0/8"); empty: the connection's own address is the client's.
    trusted_proxies: str = ""
    # Who ingests deliveries queued over the web: "thread", a thread of the web process, or
    # "process", a separate `xinyong worker` (the portal's interpreter is then never busy
    # parsing a delivery).
    delivery_worker: Literal["thread", "process"] = "thread"
    # Requests per minute per client address; 0 turns a limit off (tests, benchmarks).
    rate_limit_search_per_minute: int = 60
    rate_limit_report_per_minute: int = 10
    # The public lists (双公示, 红黑榜), pages and API: a person reads a few pages a minute, a
    # scraper walking millions of records by cursor thousands (issue 13).
    rate_limit_list_per_minute: int = 120
    # Self-service registration (issue 11): per client address, and per code tried (so that
    # one number cannot be probed from many addresses either).
    rate_limit_register_per_minute: int = 5
    rate_limit_register_code_per_minute: int = 3
    # Complaints filed without an account, and attempts to follow a case by number and code
    # (a guessed code is one attempt: the limit is what keeps codes from being tried in bulk).
    rate_limit_complaint_per_minute: int = 5
    rate_limit_follow_per_minute: int = 10
    # An account that queries more distinct subjects in a day than this many times its usual
    # daily count (and at least ``query_alert_min_subjects``) is shown to operators.
    query_alert_factor: float = 5.0
    query_alert_min_subjects: int = 50
    # Request bodies, per route (issue 11, "refuse before working"): a larger body is answered
    # 413 before it is read (Content-Length) or as soon as the bytes read pass the cap
    # (chunked bodies). JSON bodies and forms without files; evidence files of objections,
    # repair and paper authorisations (5 files of 10 MB at most, plus the form); a bulk-check
    # list (100,000 codes fit in a few MB); a delivery file (web page and API).
    max_body_bytes: int = 1 << 20
    max_evidence_upload_bytes: int = 64 << 20
    max_bulk_check_bytes: int = 32 << 20
    max_delivery_bytes: int = 512 << 20

    # -- credit reports ----------------------------------------------------------------------
    # A TrueType font with CJK glyphs that the PDF renderer embeds (Debian: fonts-wqy-zenhei).
    report_font_path: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

    # -- joint rewards and punishments -------------------------------------------------------
    feedback_deadline_working_days: int = 10

    # -- time ----------------------------------------------------------------------------------
    # The one clock every "now" and "today" comes from (see xinyong/clock.py). Not read from
    # the environment; tests pass their own.
    clock: Clock = Field(default=SYSTEM_CLOCK, exclude=True)
    # Run as if the clock had started at this instant (a demo, a rehearsal, a test of the
    # command line in another process); refused in production.
    clock_start: datetime | None = None

    @model_validator(mode="after")
    def _clock_from_start(self) -> Settings:
        if self.clock_start is not None and self.env == "production":
            raise ValueError("生产模式下不得设置 XINYONG_CLOCK_START（平台时钟只能是系统时钟）")
        if self.clock_start is not None and self.clock is SYSTEM_CLOCK:
            self.clock = StartedClock(self.clock_start)
        return self

    @property
    def production(self) -> bool:
        return self.env == "production"


@cache
def get_settings() -> Settings:
    return Settings()
