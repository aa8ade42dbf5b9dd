"""Memory and time of the server under hostile uploads (issue 11, "refuse before working").

Serves the application with uvicorn (one worker) on 127.0.0.1 over a fresh SQLite database,
then sends, one at a time, the files of the attack report and prints for each the answer, the
wall time until it was settled (for a delivery: its job done or failed) and the server's peak
RSS (psutil, sampled every 10 ms) beside the idle server's RSS:

- a 17 kB spreadsheet whose 200 rows reach column XFD (a delivery);
- a 60 MB CSV of one line (a delivery), and the same sent without a token;
- a JSON line nested 100,000 deep (a delivery);
- a 50 MB JSON body to the single check.

Run by hand: ``.venv/bin/python bench/hostile.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accounts import dept_system_token  # noqa: E402

from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import make_engine, upgrade_schema  # noqa: E402
from xinyong.departments.service import seed_database  # noqa: E402
from xinyong.sample.datasets import PENALTY_HEADERS as HEADERS  # noqa: E402
from xinyong.settings import Settings  # noqa: E402

DEPT = "11410900PY0000022L"  # 濮阳市市场监督管理局 (the catalogue's seed)
_MIB = 1 << 20


def _settings(workdir: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{workdir}/bench.db",
        data_dir=workdir / "data",
        rate_limit_search_per_minute=0,
        rate_limit_list_per_minute=0,
        rate_limit_report_per_minute=0,
    )


def serve(workdir: str, port: int) -> None:
    import uvicorn

    from xinyong.web.app import create_app

    app = create_app(_settings(Path(workdir)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(workdir: Path, script: Path | None = None) -> Iterator[tuple[str, int]]:
    """A uvicorn worker serving ``workdir`` in a process of its own: ``script --serve DIR
    --port N`` (this benchmark's by default; bench/attack.py serves its own settings)."""
    import httpx

    port = _free_port()
    me = script or Path(__file__).resolve()
    proc = subprocess.Popen([sys.executable, str(me), "--serve", str(workdir), "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit("the server process ended before answering")
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def prepare(workdir: Path) -> str:
    settings = _settings(workdir)
    engine = make_engine(settings)
    upgrade_schema(engine)
    catalog = load_catalog(settings.catalog_dir)
    seed_database(engine, catalog)
    with engine.begin() as conn:
        token = dept_system_token(conn, catalog, DEPT, "恶意上传基准测试")
    engine.dispose()
    return token


def xfd_sheet() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(HEADERS)
    for n in range(200):
        row: list[Any] = [None] * 16384
        row[: len(HEADERS)] = [f"{h}{n}" for h in HEADERS]
        row[-1] = "XFD"
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def one_line_csv() -> bytes:
    return ",".join(HEADERS).encode() + b"," + b"x" * (60 * _MIB)


def deep_json() -> bytes:
    # one object naming every column first, so that the header check passes and the deep
    # line is read as a row
    first = json.dumps(dict.fromkeys(HEADERS, "x"), ensure_ascii=False).encode()
    return first + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n"


def big_check_body() -> bytes:
    return json.dumps({"matter": "ST-GP-01", "pad": "x" * (50 * _MIB)}).encode()


class Peak:
    """The highest RSS of a process while the block runs (sampled every 10 ms)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _settle(client: Any, base: str, token: str, response: Any) -> str:
    """The final word on a request: for an accepted delivery, its job's end."""
    auth = {"Authorization": f"Bearer {token}"}
    if response.status_code != 202:
        code = response.json().get("error", {}).get("code", "") if response.content else ""
        return f"{response.status_code} {code}"
    url = base + response.json()["status_url"]
    for _ in range(6000):
        job = client.get(url, headers=auth).json()
        if job.get("state") == "failed":
            return f"202 → failed {job['error']['code']}"
        if job.get("state") == "done":
            batch = client.get(f"{base}/api/v1/batches/{job['batch_id']}?size=1", headers=auth)
            return f"202 → done, {batch.json().get('rejected')} rejected"
        time.sleep(0.05)
    return "202 → still running"


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    workdir = Path(tempfile.mkdtemp(prefix="xinyong-bench-hostile-"))
    token = prepare(workdir)
    auth = {"Authorization": f"Bearer {token}"}

    def delivery(name: str, body: bytes, headers: dict[str, str]) -> Callable[..., Any]:
        return lambda c, base: c.post(
            f"{base}/api/v1/batches",
            data={"dataset": "XZCF"},
            files={"file": (name, body, "application/octet-stream")},
            headers=headers,
        )

    sheet, csv_line, deep, check = xfd_sheet(), one_line_csv(), deep_json(), big_check_body()
    attacks: list[tuple[str, int, Callable[..., Any]]] = [
        ("XLSX reaching XFD (delivery)", len(sheet), delivery("xfd.xlsx", sheet, auth)),
        ("60 MB one-line CSV (delivery)", len(csv_line), delivery("one.csv", csv_line, auth)),
        ("60 MB one-line CSV, no token", len(csv_line), delivery("one.csv", csv_line, {})),
        ("JSON line 100,000 deep (delivery)", len(deep), delivery("deep.jsonl", deep, auth)),
        (
            "50 MB JSON check body",
            len(check),
            lambda c, base: c.post(
                f"{base}/api/v1/checks",
                content=check,
                headers={**auth, "Content-Type": "application/json"},
            ),
        ),
    ]
    with server(workdir) as (base, pid), httpx.Client(timeout=600) as client:
        import psutil

        time.sleep(1)
        idle = psutil.Process(pid).memory_info().rss
        print(f"idle server RSS: {idle / _MIB:.0f} MB")
        print(f"{'attack':36} {'sent':>9} {'answer':36} {'time':>8} {'peak RSS':>9} {'+idle':>7}")
        for title, size, send in attacks:
            t0 = time.perf_counter()
            with Peak(pid) as peak:
                try:
                    outcome = _settle(client, base, token, send(client, base))
                except httpx.HTTPError as exc:
                    outcome = f"connection: {type(exc).__name__}"
            took = time.perf_counter() - t0
            print(
                f"{title:36} {size / 1024:>7.0f}kB {outcome:36} {took:>7.2f}s "
                f"{peak.peak / _MIB:>6.0f} MB {(peak.peak - idle) / _MIB:>+5.0f}"
            )
        uploads = workdir / "data" / "uploads"
        kept = sum(p.stat().st_size for p in uploads.iterdir()) if uploads.exists() else 0
        db_mb = os.path.getsize(workdir / "bench.db") / _MIB
        print(f"uploads kept: {kept / 1024:.0f} kB; database: {db_mb:.1f} MB")


if __name__ == "__main__":
    main()
