"""Assessment benchmark: a month's department assessment (部门考核) over many records, beside a
bare grouped query over the same rows, in one run.

    .venv/bin/python bench/assess.py [--records N] [--departments D] [--pg URL]

Builds a database through the migrations (a SQLite file in a temporary folder, or with ``--pg``
a fresh schema of that PostgreSQL database, dropped afterwards), registers D departments
allowed 行政许可 and 行政处罚, and writes N records set-based in SQL (a recursive CTE on SQLite,
``generate_series`` on PostgreSQL): spread over the departments, received over November 2026,
decided 0–20 days before, one in ten pending a subject. Only the columns the assessment reads
carry meaning; ingestion speed is bench/ingest.py's job.

Then it times, in the same run:

* raw: ``SELECT dept, decision_date, received day, count(*) … GROUP BY`` over the month — the
  bare scan the timeliness figure needs;
* ours: ``assess`` for 2026-11 — every indicator for every department, with the working-day
  arithmetic, ranking and reasons.

Target (issue 16): 100 departments over 5,000,000 records in under 30 s. The machine is shared
and noisy: compare the ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, func, insert, select, text  # noqa: E402

from xinyong.assessment.figures import Period  # noqa: E402
from xinyong.assessment.service import assess  # noqa: E402
from xinyong.batches.models import batches  # noqa: E402
from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import beijing_date, is_sqlite, make_engine, upgrade_schema  # noqa: E402
from xinyong.departments.models import departments  # noqa: E402
from xinyong.records.models import records  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.models import subjects  # noqa: E402
from xinyong.workdays.calendar import calendar_dir, work_calendar  # noqa: E402

PERIOD = Period.month("2026-11")
AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def dept_code(n: int) -> str:
    return f"11410900BENCH{n:05d}"


def load(engine: Engine, n_records: int, n_depts: int) -> float:
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(departments),
            [
                {
                    "uscc": dept_code(d),
                    "name": f"测试部门{d:03d}（合成）",
                    "division": "410900",
                    "datasets": ["XZCF", "XZXK"],
                    "enabled": True,
                    "origin": "operator",
                    "created_at": AT,
                    "created_by": "bench",
                    "updated_at": AT,
                    "updated_by": "bench",
                }
                for d in range(n_depts)
            ],
        )
        first_batch = None
        for d in range(n_depts):
            batch_id = conn.execute(
                insert(batches)
                .values(
                    dataset="XZCF",
                    dept_uscc=dept_code(d),
                    actor="bench",
                    channel="cli",
                    file_name="bench.csv",
                    file_sha256="0" * 64,
                    file_format="csv",
                    received_at=datetime(2026, 11, 10, 2, tzinfo=UTC),
                    finished_at=datetime(2026, 11, 10, 2, tzinfo=UTC),
                    received=n_records // n_depts,
                    new=n_records // n_depts,
                    updated=0,
                    unchanged=0,
                    pending=0,
                    rejected=n_records // n_depts // 50,
                    warnings=0,
                )
                .returning(batches.c.id)
            ).scalar_one()
            first_batch = first_batch or batch_id
        subject_id = conn.execute(
            insert(subjects)
            .values(
                category="org",
                database="法人",
                name="合成公司（基准测试）",
                name_norm="合成公司基准测试",
                created_at=AT,
                updated_at=AT,
            )
            .returning(subjects.c.id)
        ).scalar_one()
        params = {"n": n_records, "d": n_depts, "b": first_batch, "s": subject_id}
        if is_sqlite(conn):
            conn.execute(
                text(
                    """
                    WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n)
                    INSERT INTO records (dataset, natural_key, subject_id, database, dept_uscc,
                        state, version, content_hash, data, raw, decision_date, batch_id, row_no,
                        created_at, updated_at)
                    SELECT CASE i % 2 WHEN 0 THEN 'XZCF' ELSE 'XZXK' END, 'K' || i,
                        CASE WHEN i % 10 = 0 THEN NULL ELSE :s END, '法人',
                        '11410900BENCH' || printf('%05d', i % :d), 'published', 1, 'h', '{}',
                        '{}', date('2026-11-01', '+' || (i % 30) || ' days',
                        '-' || (i % 21) || ' days'), :b + (i % :d), i,
                        datetime('2026-10-31 16:00:00', '+' || (i % 30) || ' days',
                        '+' || (i % 86400) || ' seconds'),
                        datetime('2026-10-31 16:00:00', '+' || (i % 30) || ' days')
                    FROM g
                    """
                ),
                params,
            )
        else:
            conn.execute(
                text(
                    """
                    INSERT INTO records (dataset, natural_key, subject_id, database, dept_uscc,
                        state, version, content_hash, data, raw, decision_date, batch_id, row_no,
                        created_at, updated_at)
                    SELECT CASE i % 2 WHEN 0 THEN 'XZCF' ELSE 'XZXK' END, 'K' || i,
                        CASE WHEN i % 10 = 0 THEN NULL ELSE :s END, '法人',
                        '11410900BENCH' || lpad((i % :d)::text, 5, '0'), 'published', 1, 'h',
                        '{}'::jsonb, '{}'::jsonb,
                        date '2026-11-01' + (i % 30) - (i % 21), :b + (i % :d), i,
                        timestamptz '2026-10-31 16:00:00+00' + make_interval(days => i % 30,
                            secs => i % 86400),
                        timestamptz '2026-10-31 16:00:00+00' + make_interval(days => i % 30)
                    FROM generate_series(1, :n) AS i
                    """
                ),
                params,
            )
    with engine.begin() as conn:
        if not is_sqlite(conn):
            conn.execute(text("ANALYZE records"))
    return time.perf_counter() - t0


def raw_scan(engine: Engine) -> tuple[float, int]:
    lo, hi = PERIOD.utc()
    with engine.connect() as conn:
        day = beijing_date(conn, records.c.created_at)
        q = (
            select(records.c.dept_uscc, records.c.decision_date, day, func.count())
            .where(records.c.created_at >= lo, records.c.created_at < hi)
            .group_by(records.c.dept_uscc, records.c.decision_date, day)
        )
        t0 = time.perf_counter()
        groups = len(conn.execute(q).all())
        return time.perf_counter() - t0, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--pg", help="PostgreSQL URL (a fresh schema is made and dropped)")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "catalog")
    calendar = work_calendar(calendar_dir(catalog.root))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = None
    work = Path(tempfile.mkdtemp(prefix="xinyong-assess-"))
    if args.pg:
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.pg else "?"
        url, where = f"{args.pg}{sep}options=-csearch_path%3D{schema}", "PostgreSQL"
    else:
        url, where = f"sqlite:///{work / 'assess.db'}", "SQLite"
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade_schema(engine)
        loaded = load(engine, args.records, args.departments)
        print(
            f"{where}: {args.records:,} records, {args.departments} departments in {loaded:.1f} s"
        )
        raw_s, groups = raw_scan(engine)
        t0 = time.perf_counter()
        with engine.connect() as conn:
            result = assess(conn, catalog, calendar, PERIOD)
        ours_s = time.perf_counter() - t0
        scored = sum(1 for d in result.departments if d.score is not None)
        print(f"raw  grouped scan of the month:  {raw_s:7.2f} s ({groups:,} groups)")
        print(f"ours assess 2026-11:             {ours_s:7.2f} s ({scored} departments scored)")
        print(f"ratio raw/ours: {raw_s / ours_s:.2f}   target: under 30 s")
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
