"""Reconciliation benchmark: 10,000 names (issue 16: under 20 s) matched by the reconciliation
service, beside the raw limit of the same run: the keyed lookup of the same names' normalised
forms, the least any matching must do.

    .venv/bin/python bench/reconcile.py [--subjects 100000] [--names 10000] [--batch 100]
                                        [--pg URL]

Builds a database through the migrations and bulk-inserts N synthetic organisations named as
Puyang companies are (division + 字号 + 行业 + 有限公司), one in ten with a former name (曾用名);
the name index follows through its triggers. The names asked are a mix a clerk's spreadsheet
has: 60 % written as registered, 15 % a former name, 15 % rewritten (the division in brackets
after the 字号, half-width brackets, 有限责任公司), 10 % unknown. They go to the service in
batches of ``--batch`` (OpenRefine sends 10 by default; more per request is faster), and the
run reports how many of the rewritten names found the right subject first.

With ``--pg`` the run uses a fresh schema of that database, dropped at the end. The machine is
shared and noisy: compare ratios from the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from xinyong.db import bulk_insert, make_engine, rows_by_keys, timestamp_param, upgrade_schema  # noqa: E402
from xinyong.reconcile.service import reconcile  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.models import subject_names, subjects  # noqa: E402
from xinyong.subjects.names import normalize_name  # noqa: E402

DIVISIONS = ["濮阳市华龙区", "濮阳县", "清丰县", "南乐县", "范县", "台前县", "濮阳市"]
# how a name writes the division in brackets after the 字号
SHORT = {d: d.removesuffix("市华龙区").removesuffix("县").removesuffix("市") for d in DIVISIONS}
SHORT["范县"] = "范县"
TRADE = "鑫源恒达龙都华盛嘉禾宏远金泰瑞丰永安兴旺德润新创万通博远天成富康明辉顺达汇通昌隆"
TRADES = ["商贸", "建材", "石油机械", "食品", "物流", "化工", "科技", "纺织", "餐饮", "建筑工程"]


def company(rng: random.Random) -> tuple[str, str, str]:
    """(division, a two-character start of the 字号, 行业) of a company."""
    return rng.choice(DIVISIONS), rng.choice(TRADE) + rng.choice(TRADE), rng.choice(TRADES)


def build(settings: Settings, n: int, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """Insert ``n`` organisations; returns (name, former name or '', division, trade) each."""
    engine = make_engine(settings)
    upgrade_schema(engine)
    now = datetime.now(UTC)
    made: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    while len(made) < n:
        division, trade, industry = company(rng)
        trade = trade + rng.choice(TRADE)  # three characters: 1 in ~35,000 collide
        name = f"{division}{trade}{industry}有限公司"
        if name in seen:
            continue
        seen.add(name)
        former = f"{division}{trade}{industry}经营部" if len(made) % 10 == 0 else ""
        made.append((name, former, division, trade + industry))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        ts = timestamp_param(conn, now)
        bulk_insert(
            conn,
            subjects,
            ["category", "database", "name", "name_norm", "created_at", "updated_at"],
            (("法人及非法人组织", "法人", m[0], normalize_name(m[0]), ts, ts) for m in made),
        )
        ids = dict(conn.execute(select(subjects.c.name, subjects.c.id)).tuples().all())
        bulk_insert(
            conn,
            subject_names,
            ["subject_id", "name", "name_norm", "kind", "created_at"],
            ((ids[m[0]], m[1], normalize_name(m[1]), "former", ts) for m in made if m[1]),
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    print(f"built {n:,} organisations in {time.perf_counter() - t0:.1f} s")
    engine.dispose()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--names", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--pg", help="PostgreSQL URL (a schema is made and dropped)")
    args = parser.parse_args()
    rng = random.Random(16)
    schema = None
    if args.pg:
        schema = f"bench_reconcile_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.pg else "?"
        url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='xinyong-bench-reconcile-')}/bench.db"
    try:
        settings = Settings(database_url=url, catalog_dir=ROOT / "catalog")
        made = build(settings, args.subjects, rng)
        asked: list[tuple[str, str | None, str]] = []  # (query, expected name, kind)
        for k in range(args.names):
            name, former, division, rest = made[rng.randrange(len(made))]
            roll = k % 20
            if roll < 12:
                asked.append((name, name, "exact"))
            elif roll < 15 and former:
                asked.append((former, name, "former"))
            elif roll < 18:
                trade = rest
                variant = rng.choice(
                    [f"{trade}（{SHORT[division]}）有限公司", f"{trade}({division})有限责任公司"]
                )
                asked.append((variant, name, "rewritten"))
            else:
                asked.append((f"不存在的{k}号某某有限公司", None, "unknown"))
        engine = make_engine(settings)
        t0 = time.perf_counter()
        answers: dict[str, dict[str, object]] = {}
        with engine.connect() as conn:
            for i in range(0, len(asked), args.batch):
                batch = {
                    f"q{j}": {"query": asked[j][0]}
                    for j in range(i, min(i + args.batch, len(asked)))
                }
                answers.update(reconcile(conn, batch))
        took = time.perf_counter() - t0
        t0 = time.perf_counter()
        with engine.connect() as conn:
            norms = {normalize_name(q) for q, _, _ in asked}
            found = sum(1 for _ in rows_by_keys(conn, [subjects.c.id], subjects.c.name_norm, norms))
        raw = time.perf_counter() - t0
        engine.dispose()

        right: dict[str, list[int]] = {}
        for j, (_, expected, kind) in enumerate(asked):
            result = answers[f"q{j}"]["result"]
            top = result[0]["name"] if result else None  # type: ignore[index]
            right.setdefault(kind, [0, 0])
            right[kind][1] += 1
            right[kind][0] += top == expected
        print(
            f"reconcile {len(asked):,} names in batches of {args.batch}: {took:6.1f} s "
            f"({len(asked) / took:,.0f} names/s)"
        )
        print(f"raw limit keyed lookup of the same names ({found:,} hits): {raw:6.2f} s")
        print(
            "right subject first: "
            + ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in sorted(right.items()))
        )
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
