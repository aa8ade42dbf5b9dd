"""Public list pages and profiles in the service, one at a time, warm: ms per page.

    .venv/bin/python bench/query_pages.py URL [--rounds N] [--only TEXT] [--profile TEXT]
                                              [--dump FILE]

URL: a database ``bench/query.py --keep`` left loaded (``sqlite:////path/query.db``, or a
PostgreSQL URL with ``?options=-csearch_path%3DSCHEMA``). Without HTTP, threads or other
clients, this is the steadier figure on a shared machine: the page's own statements and Python.
Each call runs as the API runs it (a connection and a transaction of its own, the public
principal); after a warm-up round, each kind is called ``--rounds`` times over its arguments
and the median / p90 of wall time and the CPU seconds per page are printed, beside a
primary-key read of a subject on the same engine (the raw limit of one round trip).

``--profile TEXT``: cProfile the kinds whose label contains TEXT and print the top of it.
``--dump FILE``: write every answer of one round (as JSON) to FILE, to compare two versions
of the code for identical answers.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from query import cursors  # noqa: E402
from sqlalchemy import Connection, text  # noqa: E402

from xinyong.accounts.roles import Principal  # noqa: E402
from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import make_engine  # noqa: E402
from xinyong.portal import service as portal  # noqa: E402
from xinyong.portal.service import ListPaging  # noqa: E402
from xinyong.settings import Settings  # noqa: E402

Call = Callable[[Connection], Any]


def plans(conn: Connection, catalog: Any, rng: random.Random) -> list[tuple[str, list[Call]]]:
    """The kinds of page ``bench/query.py`` drives, as service calls."""
    out: list[tuple[str, list[Call]]] = []

    def pub(kind: str, **kw: Any) -> Call:
        paging = ListPaging(after=kw.pop("after", None))
        return lambda c: portal.publicity_list(c, catalog, kind, paging=paging, **kw)

    def lst(kind: str, after: str | None = None) -> Call:
        return lambda c: portal.red_black_list(c, catalog, kind, paging=ListPaging(after=after))

    from datetime import date

    for kind, code in (("xzcf", "XZCF"), ("xzxk", "XZXK")):
        depts = [
            r[0]
            for r in conn.execute(
                text("SELECT DISTINCT dept_uscc FROM batches WHERE dataset = :d"), {"d": code}
            )
        ]
        out.append((f"{kind} first, unfiltered", [pub(kind)]))
        out.append((f"{kind} first, dept", [pub(kind, dept=d) for d in depts]))
        months = [pub(kind, date_from=date(2026, m, 1)) for m in range(1, 10)]
        out.append((f"{kind} first, month", months))
        if kind == "xzcf":
            out.append((f"{kind} first, type 罚款", [pub(kind, type_="罚款")]))
            out.append((f"{kind} first, type 警告", [pub(kind, type_="警告")]))
        out.append((f"{kind} deep", [pub(kind, after=c) for c in cursors(conn, code, rng, 50)]))
    for kind, codes in (("black", ("YZSX", "SXBZX")), ("red", ("SXHMD",))):
        out.append((f"{kind} first", [lst(kind)]))
        deep = [c for code in codes for c in cursors(conn, code, rng, 50)]
        out.append((f"{kind} deep", [lst(kind, c) for c in deep]))
    ids = [
        r[0]
        for r in conn.execute(
            text("SELECT subject_id FROM records WHERE dataset = 'SXHMD' ORDER BY id LIMIT 25")
        )
    ]
    hi = conn.execute(text("SELECT max(id) FROM subjects")).scalar_one()
    ids += [rng.randint(1, hi // 2) for _ in range(25)]
    public = Principal.public("")

    def profile(i: int) -> Call:
        return lambda c: portal.subject_profile(c, catalog, public, i)

    def raw(i: int) -> Call:
        return lambda c: _raw(c, i)

    out.append(("subject profile", [profile(i) for i in ids]))
    out.append(("raw: subject by id", [raw(i) for i in ids]))
    return out


def _raw(conn: Connection, subject_id: int) -> Any:
    return conn.execute(text("SELECT * FROM subjects WHERE id = :i"), {"i": subject_id}).all()


def run(engine: Any, call: Call) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    with engine.connect() as conn, conn.begin():
        try:
            answer = call(conn)
        except Exception as exc:  # an error answer is an answer too (compared by --dump)
            answer = {"error": repr(exc)}
    return time.perf_counter() - w, time.process_time() - c, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only")
    parser.add_argument("--profile")
    parser.add_argument("--dump")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "catalog")
    engine = make_engine(Settings(database_url=args.url))
    with engine.connect() as conn:
        kinds = plans(conn, catalog, random.Random(5))
    if args.only:
        kinds = [k for k in kinds if args.only in k[0] or k[0].startswith("raw")]
    dumped: dict[str, Any] = {}
    for label, calls in kinds:  # warm-up (caches, statements), and the answers to compare
        dumped[label] = [run(engine, call)[2] for call in calls]
    if args.dump:
        Path(args.dump).write_text(json.dumps(dumped, ensure_ascii=False, indent=1, default=str))
    print(f"{'':28}{'pages':>6}{'median ms':>11}{'p90 ms':>9}{'CPU ms':>9}")
    for label, calls in kinds:
        prof = cProfile.Profile() if args.profile and args.profile in label else None
        walls, cpus = [], []
        for _ in range(args.rounds):
            for call in calls:
                if prof:
                    prof.enable()
                wall, cpu, _answer = run(engine, call)
                if prof:
                    prof.disable()
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
        walls.sort()
        print(
            f"{label:28}{len(walls):6}{statistics.median(walls):11.2f}"
            f"{walls[int(len(walls) * 0.9)]:9.2f}{statistics.fmean(cpus):9.2f}",
            flush=True,
        )
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    engine.dispose()


if __name__ == "__main__":
    main()
