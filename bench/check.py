"""Check benchmark: single checks per second and a 100,000-row bulk check, each beside a raw
limit measured in the same run.

    .venv/bin/python bench/check.py [--subjects 1000000] [--entries 100000] [--singles 2000]
                                     [--bulk 100000] [--pg URL]

Builds a database through the migrations, then bulk-inserts (as bench/ingest.py does, below the
service layer) N subjects and M list entries (records of the five list datasets with their
``list_entries`` rows), and measures:

* single checks: ``run_check`` through the service, one committed transaction each (what one
  API request does, minus HTTP), against the raw limit of the same number of transactions doing
  the two indexed lookups a check cannot avoid (subject by code, its records by subject);
* bulk check: ``run_bulk_check`` of 100,000 codes (about 1 in 10 listed), against the raw limit
  of fetching the same subjects by code with ``rows_by_keys``.

The machine is shared and noisy: compare ratios from the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from xinyong.accounts.roles import Principal, Role  # noqa: E402
from xinyong.batches.models import batches  # noqa: E402
from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.checks.service import run_bulk_check, run_check  # noqa: E402
from xinyong.codes import org_check_char, uscc_check_char  # noqa: E402
from xinyong.db import (  # noqa: E402
    bulk_insert,
    dumps,
    make_engine,
    rows_by_keys,
    timestamp_param,
    upgrade_schema,
)
from xinyong.lists.models import list_entries  # noqa: E402
from xinyong.measures.catalog import load_measures, measures_dir  # noqa: E402
from xinyong.records.models import records  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.models import subjects  # noqa: E402

LISTS = [
    ("YZSX", "11410900PY0000014R"),
    ("SXBZX", "11410900PY0000049C"),
    ("JYYC", "11410900PY0000022L"),
    ("ZDGZ", "11410900PY0000014R"),
    ("SXHMD", "11410900PY0000014R"),
]
ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(i: int) -> str:
    body = "MA"
    n = i
    for _ in range(6):
        body += ALNUM[n % 31]
        n //= 31
    first17 = "91410902" + body + org_check_char(body)
    return first17 + uscc_check_char(first17)


def build(settings: Settings, n_subjects: int, n_entries: int) -> list[str]:
    engine = make_engine(settings)
    upgrade_schema(engine)
    now = datetime.now(UTC)
    codes = [uscc(i) for i in range(n_subjects)]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        ts = timestamp_param(conn, now)
        cols = [
            "category",
            "database",
            "name",
            "name_norm",
            "uscc",
            "org_code",
            "created_at",
            "updated_at",
        ]
        bulk_insert(
            conn,
            subjects,
            cols,
            (
                (
                    "法人及非法人组织",
                    "法人",
                    f"濮阳测试企业{i}有限公司",
                    f"濮阳测试企业{i}有限公司",
                    c,
                    c[8:17],
                    ts,
                    ts,
                )
                for i, c in enumerate(codes)
            ),
        )
        batch_id = conn.execute(
            insert(batches).returning(batches.c.id),
            {
                "dataset": "YZSX",
                "dept_uscc": LISTS[0][1],
                "actor": "bench",
                "channel": "bench",
                "file_name": "bench",
                "file_sha256": "0" * 64,
                "file_format": "csv",
                "encoding": "utf-8",
                "mapping": None,
                "received_at": now,
                "finished_at": now,
                **dict.fromkeys(
                    ("received", "new", "updated", "unchanged", "pending", "rejected", "warnings"),
                    0,
                ),
            },
        ).scalar_one()
        rng = random.Random(7)
        listed = rng.sample(range(1, n_subjects + 1), n_entries)  # subject ids
        rows = []
        for k, sid in enumerate(listed):
            ds, dept = LISTS[k % len(LISTS)]
            data = {"MD_WSH": f"濮测〔2026〕{k}号", "MD_LRRQ": "2026-03-02", "MD_RDBMDM": dept}
            rows.append(
                (
                    ds,
                    f"{k}|{sid}",
                    sid,
                    "法人",
                    dept,
                    "公示中",
                    1,
                    uuid.uuid4().hex,
                    dumps(data),
                    "{}",
                    "2026-03-02",
                    batch_id,
                    k + 1,
                    ts,
                    ts,
                )
            )
        rcols = [
            "dataset",
            "natural_key",
            "subject_id",
            "database",
            "dept_uscc",
            "state",
            "version",
            "content_hash",
            "data",
            "raw",
            "decision_date",
            "batch_id",
            "row_no",
            "created_at",
            "updated_at",
        ]
        bulk_insert(conn, records, rcols, rows)
        ids = conn.execute(
            select(records.c.id, records.c.dataset, records.c.subject_id, records.c.dept_uscc)
        ).all()
        bulk_insert(
            conn,
            list_entries,
            [
                "record_id",
                "dataset",
                "subject_id",
                "dept_uscc",
                "listed_on",
                "status",
                "updated_at",
            ],
            ((r.id, r.dataset, r.subject_id, r.dept_uscc, "2026-03-02", "listed", ts) for r in ids),
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    print(
        f"built {n_subjects:,} subjects, {n_entries:,} list entries "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    engine.dispose()
    return codes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--singles", type=int, default=2000)
    ap.add_argument("--bulk", type=int, default=100_000)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL (an empty database)")
    args = ap.parse_args()
    url = args.pg or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(database_url=url, catalog_dir=ROOT / "catalog")
    codes = build(settings, args.subjects, args.entries)
    catalog = load_catalog(ROOT / "catalog")
    measures = load_measures(measures_dir(catalog), catalog)
    engine = make_engine(settings)
    clerk = Principal(role=Role.CLERK, name="bench", dept_uscc="11410900PY00000577")
    rng = random.Random(11)
    sample = [rng.choice(codes) for _ in range(args.singles)]
    today = date(2026, 11, 2)

    # raw limit: the two indexed lookups per check, one transaction each
    t0 = time.perf_counter()
    for c in sample:
        with engine.begin() as conn:
            sid = conn.execute(select(subjects.c.id).where(subjects.c.uscc == c)).scalar_one()
            conn.execute(
                select(records.c.id, records.c.state).where(records.c.subject_id == sid)
            ).all()
    raw_single = args.singles / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    hits = 0
    for c in sample:
        with engine.begin() as conn:
            res = run_check(
                conn,
                catalog,
                measures,
                clerk,
                subject_code=c,
                matter="procurement",
                settings=settings,
                today=today,
            )
            hits += bool(res.hits)
    ours_single = args.singles / (time.perf_counter() - t0)
    print(
        f"single checks: {ours_single:,.0f}/s (raw limit {raw_single:,.0f}/s, "
        f"ratio {ours_single / raw_single:.2f}); {hits} of {args.singles} with hits"
    )

    bulk_codes = rng.sample(codes, min(args.bulk, len(codes)))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        found = sum(1 for _ in rows_by_keys(conn, (subjects.c.id,), subjects.c.uscc, bulk_codes))
    raw_bulk = time.perf_counter() - t0
    t0 = time.perf_counter()
    with engine.begin() as conn:
        result = run_bulk_check(
            conn,
            catalog,
            measures,
            clerk,
            [(c, None) for c in bulk_codes],
            matter="procurement",
            name="bench",
            settings=settings,
            today=today,
        )
    ours_bulk = time.perf_counter() - t0
    s = result.summary()
    print(
        f"bulk check of {len(bulk_codes):,} rows: {ours_bulk:.2f} s "
        f"(raw lookup of {found:,} subjects by code {raw_bulk:.2f} s); "
        f"{s['subjects_with_hits']:,} subjects with hits"
    )
    t0 = time.perf_counter()
    with engine.begin() as conn:
        again = run_bulk_check(
            conn,
            catalog,
            measures,
            clerk,
            [(c, None) for c in bulk_codes],
            matter="procurement",
            name="bench",
            settings=settings,
            today=today,
        )
    print(
        f"same bulk check again, with the diff: {time.perf_counter() - t0:.2f} s "
        f"(new {again.new_hits}, gone {again.gone_hits}, changed {again.changed_hits})"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
