"""Ingestion benchmark: our `xinyong ingest` beside the raw insert limit, measured in one run.

    .venv/bin/python bench/ingest.py N [--pg URL] [--keep DIR]

Generates N synthetic 行政处罚 rows (about 3 % bad, of every kind) as a UTF-8 CSV, then measures
on the same file:

* raw limit, SQLite: csv.reader streamed into ``executemany`` in one transaction, into a plain
  table of the file's columns with the same indexes as ``records`` (the natural key and the
  subject) and the same pragmas as the product;
* raw limit, PostgreSQL: ``COPY`` of the file into such a table;
* ours: ``xinyong ingest FILE --json`` as a separate process, with its peak memory (max RSS).

It prints rows/s for each and the ratio. The machine is shared and noisy: compare ratios from
the same run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import sqlite_pragma_statements  # noqa: E402
from xinyong.sample.datasets import PENALTY_HEADERS, Dept, penalty_rows  # noqa: E402
from xinyong.sample.files import write_csv  # noqa: E402
from xinyong.sample.world import World  # noqa: E402
from xinyong.settings import Settings  # noqa: E402

XINYONG = str(ROOT / ".venv" / "bin" / "xinyong")


def generate(n: int, path: Path) -> Dept:
    catalog = load_catalog(ROOT / "catalog")
    samr = next(d for d in catalog.seed_departments.values() if "市场监督管理局" in d.name)
    env = next(d for d in catalog.seed_departments.values() if "生态环境" in d.name)
    # about 1 subject per 5 rows, as in the perf-baseline data
    world = World(seed=n, organisations=max(n // 5, 100), persons=max(n // 40, 50))
    rows = penalty_rows(world, Dept(samr.uscc, samr.name), n, other_dept=Dept(env.uscc, env.name))
    write_csv(path, PENALTY_HEADERS, rows, "utf-8")
    return Dept(samr.uscc, samr.name)


def _raw_table_sql(name: str) -> list[str]:
    cols = ", ".join(f"c{i} TEXT" for i in range(len(PENALTY_HEADERS)))
    # records has a unique (dataset, natural_key) and an index on subject_id: the raw table gets
    # two indexes of the same shape over the columns they are made of.
    key = PENALTY_HEADERS.index("行政处罚决定书文号")
    org = PENALTY_HEADERS.index("处罚机关统一社会信用代码")
    subject = PENALTY_HEADERS.index("行政相对人代码_1(统一社会信用代码)")
    return [
        f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, {cols})",
        f"CREATE INDEX {name}_key ON {name} (c{key}, c{org}, c{subject})",
        f"CREATE INDEX {name}_subject ON {name} (c{subject})",
    ]


def raw_sqlite(path: Path, workdir: Path) -> float:
    db = workdir / "raw.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in sqlite_pragma_statements(Settings().sqlite_cache_kib):
        conn.execute(pragma)
    for stmt in _raw_table_sql("raw"):
        conn.execute(stmt)
    marks = ",".join("?" for _ in PENALTY_HEADERS)
    cols = ",".join(f"c{i}" for i in range(len(PENALTY_HEADERS)))
    start = time.perf_counter()
    conn.execute("BEGIN")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        conn.executemany(f"INSERT INTO raw ({cols}) VALUES ({marks})", reader)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def raw_postgres(path: Path, url: str) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        for stmt in _raw_table_sql("bench_raw"):
            conn.execute(stmt.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"))
        cols = ",".join(f"c{i}" for i in range(len(PENALTY_HEADERS)))
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY bench_raw ({cols}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE bench_raw")
    return elapsed


def ours(
    path: Path, dept: str, url: str, *, columnar: bool = True
) -> tuple[float, dict[str, object], int]:
    """Run `xinyong ingest` as its own process; return seconds, receipt and peak RSS (bytes)."""
    import psutil

    env = {
        **os.environ,
        "XINYONG_DATABASE_URL": url,
        "XINYONG_INGEST_COLUMNAR": "true" if columnar else "false",
    }
    subprocess.run([XINYONG, "db", "upgrade"], env=env, check=True, capture_output=True)
    with tempfile.TemporaryFile("w+") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        child = subprocess.Popen(
            [XINYONG, "ingest", str(path), "--dataset", "XZCF", "--dept", dept, "--json"],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
        )
        proc = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            try:
                peak = max(peak, proc.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"  (xinyong ingest: {cpu:.1f} CPU s, {elapsed:.1f} s wall)")
        if child.returncode not in (0, 1):
            err = child.stderr.read().decode() if child.stderr else ""
            sys.exit(f"ingest failed ({child.returncode}): {err[-2000:]}")
        out.seek(0)
        receipt = json.loads(out.read())
    return elapsed, receipt, peak


def profile(path: Path, dept: str, workdir: Path) -> None:
    """`xinyong ingest` into a fresh SQLite file under cProfile: the 25 costliest calls."""
    import pstats

    db = workdir / "profiled.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "XINYONG_DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run([XINYONG, "db", "upgrade"], env=env, check=True, capture_output=True)
    out = workdir / "ingest.prof"
    command = [XINYONG, "ingest", str(path), "--dataset", "XZCF", "--dept", dept, "--json"]
    run = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), *command],
        env=env,
        capture_output=True,
    )
    if run.returncode not in (0, 1):
        sys.exit(f"profiled ingest failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(25)


def _pg_reset(url: str) -> str:
    """A fresh schema for our run, so that every run starts from an empty database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("CREATE SCHEMA bench")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3Dbench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="rows to generate")
    parser.add_argument("--pg", help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then run the SQLite ingest once more under cProfile and print where its time goes",
    )
    parser.add_argument(
        "--row-path",
        action="store_true",
        help="also run the row path (XINYONG_INGEST_COLUMNAR=false) in the same run",
    )
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="xinyong-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"xzcf_{args.n}.csv"
    t0 = time.perf_counter()
    dept = generate(args.n, csv_path)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"generated {args.n:,} rows ({size_mb:,.0f} MB) in {time.perf_counter() - t0:.1f} s")

    n = args.n
    raw_s = raw_sqlite(csv_path, workdir)
    db = workdir / "ours.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    ours_s, receipt, peak = ours(csv_path, dept.uscc, f"sqlite:///{db}")
    print(
        f"receipt: new {receipt['new']:,}, pending {receipt['pending']:,}, "
        f"rejected {receipt['rejected']:,}"
    )
    print(f"{'':28}{'seconds':>9}{'rows/s':>12}")
    print(f"{'SQLite raw executemany':28}{raw_s:9.2f}{n / raw_s:12,.0f}")
    print(f"{'SQLite xinyong ingest':28}{ours_s:9.2f}{n / ours_s:12,.0f}")
    print(f"SQLite ratio (ours / raw): {raw_s / ours_s:.2f}   (target >= 0.6)")
    print(f"peak memory of xinyong ingest (RSS): {peak / 2**20:,.0f} MB   (target < 500 MB)")
    if args.row_path:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        row_s, row_receipt, row_peak = ours(csv_path, dept.uscc, f"sqlite:///{db}", columnar=False)
        same = {k: v for k, v in row_receipt.items() if k != "batch_id"}
        assert same == {k: v for k, v in receipt.items() if k != "batch_id"}, "paths disagree"
        print(f"{'SQLite row path':28}{row_s:9.2f}{n / row_s:12,.0f}")
        print(f"SQLite row path ratio: {raw_s / row_s:.2f}, peak RSS {row_peak / 2**20:,.0f} MB")
    if args.pg:
        raw_pg = raw_postgres(csv_path, args.pg)
        ours_pg, _, peak_pg = ours(csv_path, dept.uscc, _pg_reset(args.pg))
        print(f"{'PostgreSQL raw COPY':28}{raw_pg:9.2f}{n / raw_pg:12,.0f}")
        print(f"{'PostgreSQL xinyong ingest':28}{ours_pg:9.2f}{n / ours_pg:12,.0f}")
        print(f"PostgreSQL ratio (ours / raw): {raw_pg / ours_pg:.2f}   (target >= 0.5)")
        print(f"peak memory of xinyong ingest into PostgreSQL (RSS): {peak_pg / 2**20:,.0f} MB")
        if args.row_path:
            row_pg, _, row_peak_pg = ours(csv_path, dept.uscc, _pg_reset(args.pg), columnar=False)
            print(f"{'PostgreSQL row path':28}{row_pg:9.2f}{n / row_pg:12,.0f}")
            print(
                f"PostgreSQL row path ratio: {raw_pg / row_pg:.2f}, "
                f"RSS {row_peak_pg / 2**20:,.0f} MB"
            )
    if args.profile:
        profile(csv_path, dept.uscc, workdir)
    if args.keep is None:
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
