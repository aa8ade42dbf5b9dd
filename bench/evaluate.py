"""Evaluation benchmark: a full run of the enterprise model (QYGGXY) over N subjects and M
records, beside a bare grouped scan of the same rows in the same run; one subject's explanation.

    .venv/bin/python bench/evaluate.py [--subjects N] [--records M] [--pg URL] [--explain K]

Builds a database through the migrations (a SQLite file in a temporary folder, or with ``--pg``
a fresh schema of that PostgreSQL database, dropped afterwards) and fills it set-based in SQL
(a recursive CTE on SQLite, generate_series on PostgreSQL; nothing passes through Python): N
synthetic companies (one 法人登记基础信息 record each, with an industry and a district, 1 %
deregistered) and M records in all: the registration records, then 行政许可, 行政处罚 of the
three classes, 信用承诺 kept and broken, 表彰荣誉 by level, 纳税信用等级 and list entries (经营
异常名录, 重点关注名单, 严重失信主体名单, 守信红名单), decisions spread over five years, part of
them past their publicity end.

Figures, all in the same run:

* raw: ``CREATE TEMP TABLE … AS SELECT subject_id, count(*) FROM records WHERE <in force,
  the model's datasets> GROUP BY subject_id`` — the floor of any per-subject pass that writes
  its answer;
* ours: ``run_model`` (one INSERT … SELECT of the scored subjects, the run row and the pointer
  switch) and the commit;
* explain: ``explanation`` (points by indicator with the records, what would change) of K
  random subjects, p50 / p95 / max.

Targets (issue 15): full run under 60 s on PostgreSQL and 120 s on SQLite at 1,000,000 subjects
and 5,000,000 records; one explanation under 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, Engine, create_engine, func, select, text  # noqa: E402

from xinyong.accounts.roles import Principal, Role  # noqa: E402
from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import make_engine, upgrade_schema  # noqa: E402
from xinyong.disclosure.in_force import in_force_sql  # noqa: E402
from xinyong.evaluation.definitions import model_book  # noqa: E402
from xinyong.evaluation.explain import explain  # noqa: E402
from xinyong.evaluation.runs import run_model  # noqa: E402
from xinyong.evaluation.scoring import model_datasets  # noqa: E402
from xinyong.records.models import records  # noqa: E402
from xinyong.settings import Settings  # noqa: E402

AS_OF = date(2026, 12, 7)
DEPT = "11410900PY0000022L"
MODEL = "QYGGXY"
# the datasets after 法人登记基础信息, by share of the other records (out of 40)
MIX = [
    ("XZXK", 17),
    ("XZCF", 11),
    ("XYCN", 4),
    ("BZRY", 2),
    ("NSXY", 3),
    ("JYYC", 1),
    ("ZDGZ", 1),
    ("SXHMD", 1),
]
LIST_KINDS = {"JYYC": "JYYC", "ZDGZ": "WATCH", "SXHMD": "RED", "YZSX": "HN33"}


def _series(sqlite: bool, n: int) -> str:
    """A FROM clause of i = 1..n."""
    if sqlite:
        return (
            f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
            "SELECT i FROM s) AS g"
        )
    return f"generate_series(1::bigint, {n}) AS g(i)"


def _days_before(sqlite: bool, expr: str) -> str:
    return (
        f"date('{AS_OF.isoformat()}', '-' || ({expr}) || ' days')"
        if sqlite
        else f"(DATE '{AS_OF.isoformat()}' - ({expr})::int)"
    )


def _plus_years(sqlite: bool, day: str, years: int) -> str:
    return (
        f"date({day}, '+{years} years')" if sqlite else f"({day} + interval '{years} years')::date"
    )


def _json(sqlite: bool, *pairs: str) -> str:
    return ("json_object(" if sqlite else "jsonb_build_object(") + ", ".join(pairs) + ")"


LOADED = ("subjects", "records", "list_entries")


def _secondary_indexes(conn: Connection, sqlite: bool) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the loaded tables' indexes that back no constraint."""
    names = ", ".join(f"'{t}'" for t in LOADED)
    if sqlite:
        found = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                f"AND tbl_name IN ({names}) AND sql IS NOT NULL"
            )
        )
    else:
        found = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                f"AND tablename IN ({names}) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        )
    return [(r[0], r[1]) for r in found]


def _pragma(conn: Connection, statement: str) -> None:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute(statement)


def load(engine: Engine, n: int, m: int) -> None:
    """Fill the tables as a bulk load does: the secondary indexes dropped and built again
    afterwards (one sort each instead of millions of insertions at random places), foreign
    keys not checked row by row (the generated rows are consistent by construction)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # outside a transaction only: on the driver's connection, before BEGIN
            _pragma(conn, "PRAGMA foreign_keys=OFF")
        with conn.begin():
            indexes = _secondary_indexes(conn, sqlite)
            for name, _ in indexes:
                conn.execute(text(f"DROP INDEX {name}"))
            if not sqlite:
                # FK triggers off for this session (the bench connects as a superuser)
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            _fill(conn, sqlite, n, m)
        with conn.begin():
            if not sqlite:
                conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            for _, create in indexes:
                conn.execute(text(create))
        if sqlite:
            _pragma(conn, "PRAGMA foreign_keys=ON")
    with engine.connect() as conn:
        for table in LOADED:
            conn.execute(text(f"ANALYZE {table}"))
        conn.commit()


def _fill(conn: Connection, sqlite: bool, n: int, m: int) -> None:
    now = "'2026-12-07 02:00:00.000000'" if sqlite else "TIMESTAMPTZ '2026-12-07 02:00:00+00'"
    empty = "'{}'" if sqlite else "'{}'::jsonb"
    conn.execute(
        text(
            "INSERT INTO batches (id, dataset, dept_uscc, actor, channel, file_name, "
            "file_sha256, file_format, received_at, finished_at, received, new, updated, "
            f"unchanged, pending, rejected, warnings) VALUES (1, 'XZCF', '{DEPT}', 'bench', "
            f"'cli', 'bench', '{'0' * 64}', 'csv', {now}, {now}, 0, 0, 0, 0, 0, 0, 0)"
        )
    )
    # companies: 1 % deregistered (not scored)
    code = "'B' || printf('%017d', i)" if sqlite else "'B' || lpad(i::text, 17, '0')"
    conn.execute(
        text(
            "INSERT INTO subjects (id, category, database, name, name_norm, uscc, status, "
            f"created_at, updated_at) SELECT i, '法人及非法人组织', '法人', "
            f"'合成评价企业' || i, '合成评价企业' || i, {code}, "
            f"CASE WHEN i % 100 = 0 THEN '注销' ELSE '存续' END, {now}, {now} "
            f"FROM {_series(sqlite, n)}"
        )
    )
    # one registration record per company: industry (门类) and district
    industries = "CFGIKLMEAPR"
    conn.execute(
        text(
            "INSERT INTO records (id, dataset, natural_key, subject_id, database, dept_uscc, "
            "state, version, content_hash, data, raw, decision_date, batch_id, row_no, "
            "created_at, updated_at) SELECT i, 'FRJC', 'R' || i, i, '法人', "
            f"'{DEPT}', '公示中', 1, 'x', "
            + _json(
                sqlite,
                "'DJ_HYDM'",
                f"substr('{industries}', CAST(1 + i % {len(industries)} AS INTEGER), 1) || '2614'",
                "'DJ_ZCDZ_XZQH'",
                "'4109' || CASE i % 6 WHEN 0 THEN '02' WHEN 1 THEN '22' WHEN 2 THEN '23' "
                "WHEN 3 THEN '26' WHEN 4 THEN '27' ELSE '28' END",
            )
            + f", {empty}, {_days_before(sqlite, 'i % 3000')}, 1, i, {now}, {now} "
            f"FROM {_series(sqlite, n)}"
        )
    )
    others = m - n
    total = sum(w for _, w in MIX)
    bounds, acc = [], 0
    for ds, w in MIX:
        acc += w
        bounds.append((ds, acc))
    pick = (
        "CASE " + " ".join(f"WHEN (i * 7) % {total} < {b} THEN '{ds}'" for ds, b in bounds) + " END"
    )
    decided = _days_before(sqlite, "(i * 7919) % 1800")
    conn.execute(
        text(
            "INSERT INTO records (id, dataset, natural_key, subject_id, database, dept_uscc, "
            "state, version, content_hash, data, raw, decision_date, batch_id, row_no, "
            "created_at, updated_at, publicity_class, publicity_max_end) "
            f"SELECT {n} + i, ds, 'K' || i, 1 + (i * 104729) % {n}, '法人', '{DEPT}', "
            "'公示中', 1, 'x', "
            "CASE ds "
            "WHEN 'XYCN' THEN "
            + _json(sqlite, "'CN_LYZT'", "CASE WHEN i % 5 = 0 THEN '未履约' ELSE '履约' END")
            + " WHEN 'BZRY' THEN "
            + _json(
                sqlite,
                "'RY_RYJB'",
                "CASE i % 4 WHEN 0 THEN '国家级' WHEN 1 THEN '省级' WHEN 2 THEN '市级' "
                "ELSE '县级' END",
            )
            + " WHEN 'NSXY' THEN "
            + _json(
                sqlite,
                "'NS_XYDJ'",
                "CASE i % 5 WHEN 0 THEN 'A' WHEN 1 THEN 'B' WHEN 2 THEN 'M' WHEN 3 THEN 'C' "
                "ELSE 'D' END",
            )
            + f" ELSE {empty} END, {empty}, decided, 1, i, {now}, {now}, "
            "CASE WHEN ds = 'XZCF' THEN CASE i % 3 WHEN 0 THEN '轻微' WHEN 1 THEN '一般' "
            "ELSE '严重' END END, "
            "CASE WHEN ds IN ('XZCF', 'JYYC', 'ZDGZ') THEN "
            f"{_plus_years(sqlite, 'decided', 3)} END "
            f"FROM (SELECT i, {pick} AS ds, {decided} AS decided "
            f"FROM {_series(sqlite, others)}) AS x"
        )
    )
    # list entries of the list records; a few serious-dishonesty entries among 重点关注
    conn.execute(
        text(
            "INSERT INTO list_entries (record_id, dataset, list_kind, subject_id, dept_uscc, "
            "listed_on, valid_until, status, updated_at) "
            "SELECT id, dataset, CASE dataset WHEN 'JYYC' THEN 'JYYC' WHEN 'SXHMD' THEN 'RED' "
            "ELSE CASE WHEN id % 4 = 0 THEN 'HN33' ELSE 'WATCH' END END, subject_id, "
            f"'{DEPT}', decision_date, publicity_max_end, 'listed', {now} FROM records "
            "WHERE dataset IN ('JYYC', 'ZDGZ', 'SXHMD')"
        )
    )
    if not sqlite:
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('records', 'id'), "
                "(SELECT max(id) FROM records))"
            )
        )


def raw_scan(conn: Connection, names: list[str]) -> tuple[float, int]:
    """The same rows, grouped by subject and written to a table, nothing else."""
    inner = (
        select(records.c.subject_id, func.count().label("n"))
        .where(records.c.dataset.in_(names), in_force_sql(AS_OF, counted=("公示中",)))
        .group_by(records.c.subject_id)
    )
    sql = str(inner.compile(conn, compile_kwargs={"literal_binds": True}))
    t0 = time.perf_counter()
    with conn.begin():
        conn.execute(text(f"CREATE TEMP TABLE raw_scan AS {sql}"))
        groups = conn.execute(text("SELECT count(*) FROM raw_scan")).scalar_one()
        conn.execute(text("DROP TABLE raw_scan"))
    return time.perf_counter() - t0, int(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--explain", type=int, default=200)
    parser.add_argument("--pg", help="PostgreSQL URL (a fresh schema is made and dropped)")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "catalog")
    model = model_book(catalog).get(MODEL)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = None
    work = Path(tempfile.mkdtemp(prefix="xinyong-evaluate-"))
    if args.pg:
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.pg else "?"
        url, where = f"{args.pg}{sep}options=-csearch_path%3D{schema}", "PostgreSQL"
    else:
        url, where = f"sqlite:///{work / 'evaluate.db'}", "SQLite"
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade_schema(engine)
        t0 = time.perf_counter()
        load(engine, args.subjects, args.records)
        print(
            f"{where}: {args.subjects:,} subjects, {args.records:,} records loaded in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        with engine.connect() as conn:
            raw_s, groups = raw_scan(conn, model_datasets(catalog, model))
            t0 = time.perf_counter()
            with conn.begin():
                done = run_model(conn, catalog, model, as_of=AS_OF, actor="bench")
            ours_s = time.perf_counter() - t0
            rng = random.Random(15)
            times = []
            operator = Principal(role=Role.OPERATOR, name="bench")
            for _ in range(args.explain):
                subject = rng.randrange(1, args.subjects + 1)
                if subject % 100 == 0:
                    continue  # deregistered: not scored
                t1 = time.perf_counter()
                with conn.begin():
                    explain(conn, catalog, operator, MODEL, subject)
                times.append((time.perf_counter() - t1) * 1000)
        target = 60 if args.pg else 120
        print(f"raw  grouped scan of the same rows:  {raw_s:7.2f} s ({groups:,} subjects)")
        print(f"ours full run {MODEL}:             {ours_s:7.2f} s ({done.subjects:,} scored)")
        print(f"ratio ours/raw: {ours_s / raw_s:.2f}   target: under {target} s")
        times.sort()
        print(
            f"explanation of one subject ({len(times)}): p50 {statistics.median(times):.1f} ms, "
            f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms   "
            "target: under 50 ms"
        )
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
