"""Check benchmark: single checks per second and a 100,000-row bulk check, each beside a raw
limit measured in the same run.

    .venv/bin/python bench/check.py [--subjects 1000000] [--entries 100000] [--singles 2000]
                                     [--bulk 100000] [--pg URL] [--seconds 10] [--connections 4]

Builds a database through the migrations, then bulk-inserts (as bench/ingest.py does, below the
service layer) N subjects and M list entries (records of the five list datasets with their
``list_entries`` rows), and measures:

* single checks: ``run_check`` through the service, one committed transaction each (what one
  API request does, minus HTTP), against the raw limit of the same number of transactions doing
  the two indexed lookups a check cannot avoid (subject by code, its records by subject);
* bulk check: ``run_bulk_check`` of 100,000 codes (about 1 in 10 listed), against the raw limit
  of fetching the same subjects by code with ``rows_by_keys``.

and then through the API: the application is served by uvicorn (one process, started here as a
subprocess on the loaded database) and driven from this process by ``wrk`` (or, without it,
httpx clients on a thread pool) with concurrent connections:

* ``POST /api/v1/checks`` with a department system's token, against ``GET /api/v1/health`` of
  the same server (the framework's own ceiling): requests/s, p50/p99 and the ratio, and the
  server process's CPU time per request (from /proc), which other load on a shared machine
  disturbs far less than requests/s;
* ``POST /api/v1/checks/bulk`` with a 100,000-row CSV, against the service-layer bulk check.

With ``--pg`` the run uses a fresh schema of that database, dropped at the end.
The machine is shared and noisy: compare ratios from the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accounts import dept_system_token  # noqa: E402
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
from xinyong.departments.service import seed_database  # noqa: E402
from xinyong.lists.models import list_entries  # noqa: E402
from xinyong.measures.catalog import load_measures, measures_dir  # noqa: E402
from xinyong.records.models import records  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.models import subjects  # noqa: E402

# The list kind (catalog/lists) of each dataset's bench entries: a check triggers by kind.
LISTED = ("2026-03-02", "listed")  # listed on, status
KINDS = {"YZSX": "GP", "SXBZX": "SXBZX", "JYYC": "JYYC", "ZDGZ": "WATCH", "SXHMD": "RED"}
LISTS = [
    ("YZSX", "11410900PY0000014R"),
    ("SXBZX", "11410900PY0000049C"),
    ("JYYC", "11410900PY0000022L"),
    ("ZDGZ", "11410900PY0000014R"),
    ("SXHMD", "11410900PY0000014R"),
]
ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CHECKING_DEPT = "11410900PY00000577"  # 濮阳市生态环境局, an implementer of the measures
MATTER = "procurement"
RATE_LIMITS_OFF = {
    "XINYONG_RATE_LIMIT_SEARCH_PER_MINUTE": "0",
    "XINYONG_RATE_LIMIT_LIST_PER_MINUTE": "0",
    "XINYONG_RATE_LIMIT_REPORT_PER_MINUTE": "0",
}


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
    seed_database(engine, load_catalog(ROOT / "catalog"))  # what `xinyong db upgrade` does
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
                "list_kind",
                "subject_id",
                "dept_uscc",
                "listed_on",
                "status",
                "updated_at",
            ],
            (
                (r.id, r.dataset, KINDS[r.dataset], r.subject_id, r.dept_uscc, *LISTED, ts)
                for r in ids
            ),
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    print(
        f"built {n_subjects:,} subjects, {n_entries:,} list entries "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    engine.dispose()
    return codes


# -- the API -------------------------------------------------------------------------------------


def serve(url: str, port: int, chains: int) -> None:
    """The server process: the application on the bench database, one uvicorn process;
    ``chains`` audit chains (1: the single lock every append took before issue 13)."""
    import uvicorn

    from xinyong.audit import service as audit_service
    from xinyong.web.app import create_app

    audit_service.CHAINS = chains
    os.environ.update(RATE_LIMITS_OFF)
    settings = Settings(database_url=url, catalog_dir=ROOT / "catalog")
    app = create_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used so far, from /proc (Linux): what the
    server spent per request, whatever else the shared machine is doing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(url: str, chains: int) -> Iterator[tuple[str, int]]:
    """Start the server in a subprocess; yield its base URL and pid once it answers."""
    import httpx

    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            url,
            "--port",
            str(port),
            "--audit-chains",
            str(chains),
        ],
        env={**os.environ, **RATE_LIMITS_OFF},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit("the server process ended before answering")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not answer within a minute")
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dept_token(settings: Settings, catalog: Any) -> str:
    engine = make_engine(settings)
    with engine.begin() as conn:
        token = dept_system_token(conn, catalog, CHECKING_DEPT, "核查基准测试系统")
    engine.dispose()
    return token


@dataclass
class Load:
    """What a load run measured: requests per second, latency percentiles (ms), failures,
    and the server's CPU milliseconds per request."""

    rps: float
    p50: float
    p99: float
    failed: int
    done: int
    cpu_ms: float = float("nan")


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, seconds: int, connections: int, script: Path | None) -> Load:
    cmd = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def pct(p: str) -> float:
        m = re.search(rf"^\s*{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * _UNIT_MS[m.group(2)] if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (
        sum(int(x) for x in errors.groups()) if errors else 0
    )
    return Load(rps, pct("50"), pct("99"), failed, done)


def _httpx_load(
    url: str, seconds: int, connections: int, body_for: Any, headers: dict[str, str]
) -> Load:
    """Fallback without wrk: ``connections`` threads, each with its own keep-alive client."""
    import httpx

    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()

    def worker() -> tuple[list[float], int]:
        times: list[float] = []
        bad = 0
        with httpx.Client(headers=headers, timeout=30) as client:
            while time.perf_counter() < stop:
                with lock:
                    k = next(counter)
                body = body_for(k)
                t = time.perf_counter()
                r = client.post(url, json=body) if body is not None else client.get(url)
                times.append(time.perf_counter() - t)
                bad += r.status_code >= 300
        return times, bad

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(lambda _: worker(), range(connections)))
    elapsed = time.perf_counter() - t0
    times = sorted(t for ts, _ in results for t in ts)
    n = len(times)
    return Load(
        n / elapsed,
        times[n // 2] * 1000,
        times[min(n - 1, int(n * 0.99))] * 1000,
        sum(b for _, b in results),
        n,
    )


def _check_script(workdir: Path, codes: list[str], token: str) -> Path:
    """A wrk script posting checks of the given codes in turn."""
    script = workdir / "checks.lua"
    listing = ",".join(json.dumps(c) for c in codes)
    script.write_text(
        f"""
local codes = {{{listing}}}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  n = n + 1
  local body = '{{"subject_code":"' .. codes[(n % #codes) + 1] .. '","matter":"{MATTER}"}}'
  return wrk.format(nil, "/api/v1/checks", nil, body)
end
""",
        encoding="utf-8",
    )
    return script


def api_single(
    base: str, pid: int, codes: list[str], token: str, seconds: int, connections: int
) -> tuple[Load, Load, str]:
    """Checks/s through the API and health requests/s of the same server, same load; each
    with the server's CPU time per request."""

    def measured(run: Any) -> Load:
        before = cpu_seconds(pid)
        load: Load = run()
        after = cpu_seconds(pid)
        if before is not None and after is not None and load.done:
            load.cpu_ms = (after - before) * 1000 / load.done
        return load

    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("wrk"):
            script = _check_script(Path(tmp), codes, token)
            _wrk(f"{base}/api/v1/health", 2, connections, None)  # warm-up
            health = measured(lambda: _wrk(f"{base}/api/v1/health", seconds, connections, None))
            checks = measured(lambda: _wrk(base, seconds, connections, script))
            return health, checks, f"wrk -t{min(2, connections)}"
    auth = {"Authorization": f"Bearer {token}"}
    health = measured(
        lambda: _httpx_load(f"{base}/api/v1/health", seconds, connections, lambda k: None, {})
    )
    checks = measured(
        lambda: _httpx_load(
            f"{base}/api/v1/checks",
            seconds,
            connections,
            lambda k: {"subject_code": codes[k % len(codes)], "matter": MATTER},
            auth,
        )
    )
    return health, checks, "httpx threads"


def api_bulk(base: str, codes: list[str], token: str) -> tuple[float, dict[str, Any], int]:
    """One bulk check of ``codes`` uploaded as a CSV: seconds, the summary, result bytes."""
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["统一社会信用代码"])
            w.writerows([c] for c in codes)
        t0 = time.perf_counter()
        with path.open("rb") as fh:
            r = httpx.post(
                f"{base}/api/v1/checks/bulk",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("list.csv", fh, "text/csv")},
                data={"matter": MATTER, "name": "bench-api"},
                timeout=600,
            )
        elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"bulk check through the API failed: {r.status_code} {r.text[:300]}")
    return elapsed, json.loads(r.headers["X-Xinyong-Summary"]), len(r.content)


# -- the run -------------------------------------------------------------------------------------


def _pg_engine(url: str) -> Any:
    return make_engine(Settings(database_url=url, catalog_dir=ROOT / "catalog"))


def _pg_schema(url: str) -> tuple[str, str]:
    schema = f"bench_check_{uuid.uuid4().hex[:8]}"
    engine = _pg_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def _pg_drop(url: str, schema: str) -> None:
    engine = _pg_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--singles", type=int, default=2000)
    ap.add_argument("--bulk", type=int, default=100_000)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL (a fresh schema is used)")
    ap.add_argument("--seconds", type=int, default=10, help="duration of each API load run")
    ap.add_argument("--connections", type=int, default=4, help="concurrent API clients")
    ap.add_argument("--no-api", action="store_true", help="service layer only")
    ap.add_argument(
        "--audit-chains",
        type=int,
        default=16,
        help="audit chains of the server (1: one lock for every append, as before issue 13)",
    )
    ap.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.audit_chains)
        return
    schema = None
    workdir = None
    if args.pg:
        url, schema = _pg_schema(args.pg)
    else:
        workdir = tempfile.mkdtemp(prefix="xinyong-bench-check-")
        url = f"sqlite:///{workdir}/bench.db"
    try:
        run(args, url)
    finally:
        if schema is not None:
            _pg_drop(args.pg, schema)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, url: str) -> None:
    settings = Settings(database_url=url, catalog_dir=ROOT / "catalog")
    print(f"database: {make_engine(settings).dialect.name}")
    codes = build(settings, args.subjects, args.entries)
    catalog = load_catalog(ROOT / "catalog")
    measures = load_measures(measures_dir(catalog), catalog)
    engine = make_engine(settings)
    clerk = Principal(role=Role.CLERK, name="bench", dept_uscc=CHECKING_DEPT)
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
                matter=MATTER,
                settings=settings,
                today=today,
            )
            hits += bool(res.hits)
    ours_single = args.singles / (time.perf_counter() - t0)
    print(
        f"service single checks: {ours_single:,.0f}/s (raw limit {raw_single:,.0f}/s, "
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
            matter=MATTER,
            name="bench",
            settings=settings,
            today=today,
        )
    ours_bulk = time.perf_counter() - t0
    s = result.summary()
    print(
        f"service bulk check of {len(bulk_codes):,} rows: {ours_bulk:.2f} s "
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
            matter=MATTER,
            name="bench",
            settings=settings,
            today=today,
        )
    print(
        f"service bulk check again, with the diff: {time.perf_counter() - t0:.2f} s "
        f"(new {again.new_hits}, gone {again.gone_hits}, changed {again.changed_hits})"
    )
    engine.dispose()
    if args.no_api:
        return

    token = dept_token(settings, catalog)
    api_sample = [rng.choice(codes) for _ in range(5000)]
    with server(url, args.audit_chains) as (base, pid):
        health, checks, client = api_single(
            base, pid, api_sample, token, args.seconds, args.connections
        )
        print(
            f"API (uvicorn, one process; {client}, {args.connections} connections, "
            f"{args.seconds} s each; {args.audit_chains} audit chains):"
        )
        print(
            f"  GET /api/v1/health: {health.rps:,.0f} req/s, p50 {health.p50:.1f} ms, "
            f"p99 {health.p99:.1f} ms ({health.failed} failed); "
            f"server CPU {health.cpu_ms:.2f} ms/request"
        )
        print(
            f"  POST /api/v1/checks: {checks.rps:,.0f} checks/s, p50 {checks.p50:.1f} ms, "
            f"p99 {checks.p99:.1f} ms ({checks.failed} failed of {checks.done:,}); "
            f"server CPU {checks.cpu_ms:.2f} ms/check"
        )
        print(
            f"  ratio checks/health: {checks.rps / health.rps:.2f} (target >= 0.5); "
            f"by server CPU per request {health.cpu_ms / checks.cpu_ms:.2f}"
        )
        elapsed, summary, size = api_bulk(base, bulk_codes, token)
        print(
            f"  POST /api/v1/checks/bulk of {len(bulk_codes):,} rows: {elapsed:.2f} s "
            f"(service layer {ours_bulk:.2f} s; {summary['subjects_with_hits']:,} subjects "
            f"with hits, result {size / 1e6:.1f} MB)"
        )


if __name__ == "__main__":
    main()
