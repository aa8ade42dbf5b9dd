"""Name search benchmark: ``search_subjects`` beside a primary-key lookup, measured in one run.

    .venv/bin/python bench/query_search.py [N] [--pg URL] [--queries Q] [--keep DIR]

Loads N synthetic subjects (90 % organisations and individual businesses named as
``xinyong.sample.world`` names them, 5 % of those with a former name, 10 % natural persons)
through the product's own linking service (``link_subjects`` / ``record_names``, 5,000 per
call, so the index triggers of migration 0006 do the indexing), into a fresh SQLite file, or
with ``--pg`` into a fresh schema of that PostgreSQL database (dropped afterwards).

Then, on one connection, as the anonymous public (the portal's case: natural persons are
filtered out unless listed), it times Q searches of each kind, one page of 20:

* 2-character, 3-character and 4–8-character fragments, each a random piece of a random
  organisation's name (so common pieces such as 有限公司 come up as often as users type them);
* exact codes (USCC, 组织机构代码, 注册号 of random organisations);
* the raw limit: ``SELECT * FROM subjects WHERE id = ?`` for random ids, the cheapest query
  the same connection can make.

It prints p50/p99/max in milliseconds for each. The machine is shared and noisy: compare
figures from the same run. Target (issue 4): p99 under 100 ms for 3+ characters at 1M.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, Engine, create_engine, text  # noqa: E402

from xinyong.accounts.roles import Principal  # noqa: E402
from xinyong.db import make_engine, upgrade_schema  # noqa: E402
from xinyong.portal.search import search_subjects  # noqa: E402
from xinyong.sample.world import World  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.names import normalize_name  # noqa: E402
from xinyong.subjects.refs import INDIVIDUAL_BUSINESS, ORGANISATION, PERSON, SubjectRef  # noqa: E402
from xinyong.subjects.service import link_subjects, record_names  # noqa: E402

CHUNK = 5000


def make_world(n: int) -> World:
    orgs = n * 9 // 10
    return World(seed=n, organisations=orgs, persons=n - orgs)


def refs_of(world: World, rng: random.Random) -> list[SubjectRef]:
    refs: list[SubjectRef] = []
    for o in world.orgs:
        category = INDIVIDUAL_BUSINESS if o.is_individual_business else ORGANISATION
        former: tuple[str, ...] = ()
        if rng.random() < 0.05:
            # a former name as renames go: same place, another 字号 and trade
            other = rng.choice(world.orgs).name
            former = (o.name[:3] + other[3:],)
        refs.append(
            SubjectRef(
                category,
                o.name,
                normalize_name(o.name),
                uscc=o.uscc,
                reg_no=o.reg_no,
                former_names=former,
            )
        )
    for p in world.persons:
        refs.append(SubjectRef(PERSON, p.name, normalize_name(p.name), id_number=p.id_number))
    # persons may repeat (same ID drawn twice is practically impossible, but be safe)
    seen: set[str] = set()
    unique = []
    for r in refs:
        if r.key not in seen:
            seen.add(r.key)
            unique.append(r)
    return unique


def load(engine: Engine, refs: list[SubjectRef]) -> float:
    start = time.perf_counter()
    for i in range(0, len(refs), CHUNK):
        chunk = refs[i : i + CHUNK]
        with engine.begin() as conn:
            ids = link_subjects(conn, chunk)
            record_names(conn, chunk, [x for x in ids if x is not None], batch_id=None)
        if (i // CHUNK) % 40 == 0:
            print(f"  loaded {i + len(chunk):,}", flush=True)
    return time.perf_counter() - start


def fragments(world: World, rng: random.Random, q: int, lo: int, hi: int) -> list[str]:
    out: list[str] = []
    while len(out) < q:
        name = rng.choice(world.orgs).name
        size = rng.randint(lo, hi)
        if len(name) < size:
            continue
        start = rng.randrange(len(name) - size + 1)
        out.append(name[start : start + size])
    return out


def codes(world: World, rng: random.Random, q: int) -> list[str]:
    out = []
    for _ in range(q):
        o = rng.choice(world.orgs)
        out.append(rng.choice((o.uscc, o.uscc, o.org_code, o.reg_no)))
    return out


def timed(run: Callable[[str], object], queries: list[str]) -> list[float]:
    times = []
    for query in queries:
        start = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"  {label:<28} p50 {statistics.median(ordered):8.2f} ms   p99 {p99:8.2f} ms   "
        f"max {ordered[-1]:8.2f} ms"
    )


def measure(conn: Connection, world: World, q: int, n: int) -> None:
    rng = random.Random(1)
    public = Principal.public("bench")
    found = {"hits": 0, "pages": 0}

    def search(query: str) -> None:
        page = search_subjects(conn, query, public)
        found["pages"] += 1
        found["hits"] += bool(page.items)

    def by_pk(sid: str) -> None:
        conn.execute(text("SELECT * FROM subjects WHERE id = :id"), {"id": int(sid)}).first()

    # warm-up: the caches a running server would have
    for query in fragments(world, rng, 50, 2, 6):
        search(query)
    max_id = conn.execute(text("SELECT max(id) FROM subjects")).scalar_one()
    plans = [
        ("raw limit: primary key", [str(rng.randint(1, max_id)) for _ in range(q)], by_pk),
        ("name, 2 characters", fragments(world, rng, q, 2, 2), search),
        ("name, 3 characters", fragments(world, rng, q, 3, 3), search),
        ("name, 4-8 characters", fragments(world, rng, q, 4, 8), search),
        ("exact code", codes(world, rng, q), search),
        ("name, common: 有限公司", ["有限公司"] * q, search),
    ]
    print(f"{n:,} subjects, {q} queries of each kind, one page of 20, as the public:")
    for label, queries, run in plans:
        report(label, timed(run, queries))
    print(f"  searches with results: {found['hits']:,} of {found['pages']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a fresh schema is made and dropped)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the database: SQLite in this directory; PostgreSQL: the schema is not dropped",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    world = make_world(args.n)
    refs = refs_of(world, random.Random(args.n))
    print(f"made {len(refs):,} subjects in {time.perf_counter() - start:.1f} s", flush=True)

    admin: Engine | None = None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
            with admin.begin() as c:
                c.execute(text(f"CREATE SCHEMA {schema}"))
            sep = "&" if "?" in args.pg else "?"
            url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
        else:
            where = args.keep or Path(tmp)
            where.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{where / 'search.db'}"
        engine = make_engine(Settings(database_url=url))
        try:
            upgrade_schema(engine)
            took = load(engine, refs)
            print(f"loaded with the name index: {len(refs) / took:,.0f} subjects/s", flush=True)
            if args.pg:
                # what autovacuum does soon after a bulk load: statistics, GIN pending list
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    for table in ("subjects", "subject_names", "subject_search"):
                        c.exec_driver_sql(f"VACUUM ANALYZE {table}")
            with engine.connect() as conn:
                measure(conn, world, args.queries, len(refs))
        finally:
            engine.dispose()
            if admin is not None and args.keep:
                print(f"kept schema {schema}")
            elif admin is not None:
                with admin.begin() as c:
                    c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            if admin is not None:
                admin.dispose()


if __name__ == "__main__":
    main()
