"""Exchange benchmark: numbering and exporting N changes (issue 16: 5,000,000 under 60 s with
bounded memory) beside a bare ``COPY … TO`` of the same rows in the same run (PostgreSQL).

    .venv/bin/python bench/exchange.py --pg postgresql://postgres@127.0.0.1:5432/test
                                       [--changes 5000000] [--subjects 100000]

Builds a fresh schema through the migrations and fills it below the service layer, in SQL
(``generate_series``): subjects, one batch and N 行政处罚 records with a small JSON body each.
Then measures, each beside what it cannot beat:

* ``feed.capture`` over the whole table (what ``daily`` and every export do): N changes
  numbered in one ``INSERT … SELECT`` plus the upsert of what the feed last said;
* ``outbound.export`` of every change into packages (header + JSON-lines body, SHA-256, split
  at the node's size limit), with the process's peak RSS sampled every 50 ms by psutil: the
  memory it adds must not grow with N;
* the raw limit: ``COPY (the export's own SELECT) TO STDOUT`` written to a file, the database's
  fastest way to hand the same rows out.

The schema is dropped at the end. The machine is shared and noisy: compare ratios from the
same run, not absolute times.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from xinyong.accounts.roles import Principal  # noqa: E402
from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import make_engine, upgrade_schema  # noqa: E402
from xinyong.exchange import feed, outbound  # noqa: E402
from xinyong.settings import Settings  # noqa: E402

DEPT = "11410900PY0000022L"  # 濮阳市市场监督管理局


def _schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def build(settings: Settings, n: int, n_subjects: int) -> None:
    engine = make_engine(settings)
    upgrade_schema(engine)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subjects (category, database, name, name_norm, created_at, updated_at)"
                " SELECT '法人及非法人组织', '法人', '濮阳测试企业' || i || '有限公司',"
                " '濮阳测试企业' || i || '有限公司', now(), now()"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": n_subjects},
        )
        conn.execute(
            text(
                "INSERT INTO batches (dataset, dept_uscc, actor, channel, file_name, file_sha256,"
                " file_format, encoding, received_at, finished_at, received, new, updated,"
                " unchanged, pending, rejected, warnings) VALUES ('XZCF', :d, 'bench', 'bench',"
                " 'bench', repeat('0', 64), 'csv', 'utf-8', now(), now(), 0, 0, 0, 0, 0, 0, 0)"
            ),
            {"d": DEPT},
        )
        conn.execute(
            text(
                "INSERT INTO records (dataset, natural_key, subject_id, database, dept_uscc, state,"
                " version, content_hash, data, raw, decision_date, batch_id, row_no, created_at,"
                " updated_at)"
                " SELECT 'XZCF', 'K' || i, 1 + i % :s, '法人', :d, '公示中', 1, md5(i::text),"
                " jsonb_build_object('CF_WSH', '濮测罚〔2026〕' || i || '号', 'CF_CFLB', '罚款',"
                "   'CF_JDRQ', '2026-03-02', 'CF_NR', '罚款人民币' || (i % 9000 + 1000) || '元',"
                "   'CF_XDR_MC', '濮阳测试企业' || (1 + i % :s) || '有限公司'),"
                " '{}'::jsonb, DATE '2026-03-02', 1, i, now(), now()"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": n, "s": n_subjects, "d": DEPT},
        )
        conn.execute(text("ANALYZE"))
    print(f"built {n:,} records of {n_subjects:,} subjects in {time.perf_counter() - t0:.1f} s")
    engine.dispose()


class PeakRss:
    """The process's peak resident set size while the block runs, sampled every 50 ms."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self.start = self._proc.memory_info().rss
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def added_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", required=True, help="PostgreSQL URL (a schema is made and dropped)")
    parser.add_argument("--changes", type=int, default=5_000_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    args = parser.parse_args()

    schema = f"bench_exchange_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    out = Path(tempfile.mkdtemp(prefix="xinyong-bench-exchange-"))
    try:
        settings = Settings(database_url=_schema_url(args.pg, schema), catalog_dir=ROOT / "catalog")
        build(settings, args.changes, args.subjects)
        catalog = load_catalog(ROOT / "catalog")
        engine = make_engine(settings)
        operator = Principal.cli("bench@localhost")

        t0 = time.perf_counter()
        with engine.begin() as conn:
            numbered = feed.capture(conn, catalog)
        capture_s = time.perf_counter() - t0
        with engine.begin() as conn:
            conn.execute(text("ANALYZE exchange_changes"))

        # the raw limit: the export's own rows, COPY TO a file
        t0 = time.perf_counter()
        raw_file = out / "copy.tsv"
        with engine.connect() as conn, raw_file.open("wb") as f:
            query = outbound._lines_query(conn, 0).compile(
                conn, compile_kwargs={"literal_binds": True}
            )
            raw: Any = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT") as copy:
                for block in copy:
                    f.write(block)
        copy_s = time.perf_counter() - t0
        copy_bytes = raw_file.stat().st_size
        raw_file.unlink()

        packages = out / "packages"
        packages.mkdir()
        with PeakRss() as rss:
            t0 = time.perf_counter()
            with engine.begin() as conn:
                result = outbound.export(conn, catalog, operator, since="0", output=packages)
            export_s = time.perf_counter() - t0
        body_bytes = sum(p["body_bytes"] for p in result.packages)
        engine.dispose()

        n = args.changes
        print(f"capture   {numbered:,} changes numbered        {capture_s:7.1f} s")
        print(
            f"export    {result.records:,} changes, {len(result.packages)} packages, "
            f"{body_bytes / 2**20:,.0f} MiB  {export_s:7.1f} s  ({n / export_s:,.0f}/s; "
            f"peak RSS +{rss.added_mib:.0f} MiB)"
        )
        print(
            f"raw limit COPY (same SELECT) TO file, {copy_bytes / 2**20:,.0f} MiB"
            f"        {copy_s:7.1f} s  ({n / copy_s:,.0f}/s)"
        )
        print(f"export / COPY: {export_s / copy_s:.1f}x; target: {n:,} in under 60 s")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
