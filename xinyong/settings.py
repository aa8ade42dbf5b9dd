"""Typed settings, read once from the environment and passed in; never a patched global."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The bundled catalogue lives beside the package in a source checkout.
_REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINYONG_", extra="ignore", populate_by_name=True)

    # DATABASE_URL is the conventional name; XINYONG_DATABASE_URL wins when both are set.
    database_url: str = Field(
        default="sqlite:///var/xinyong.db",
        validation_alias=AliasChoices("XINYONG_DATABASE_URL", "DATABASE_URL"),
    )
    catalog_dir: Path = _REPO_ROOT / "catalog"
    env: str = "development"
    # Rows handled per chunk while ingesting: bounds memory whatever the file size.
    ingest_chunk_rows: int = 5000
    # SQLite page cache (KiB). Big enough that index maintenance of a million-row load stays
    # in memory (perf-baseline: the 2 MB default makes loads 2x slower), small enough for the
    # 500 MB peak-memory budget of a 1M-row ingest.
    sqlite_cache_kib: int = 200_000


@cache
def get_settings() -> Settings:
    return Settings()
