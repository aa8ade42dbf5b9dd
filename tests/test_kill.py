"""A batch killed mid-run leaves nothing behind, and running it again completes it.

The real thing: `xinyong ingest` in its own process, killed with SIGKILL while it writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fixtures.cli import clock_env
from sqlalchemy import Engine, func, select, text

from xinyong.batches.models import batches
from xinyong.catalog.loader import Catalog
from xinyong.records.models import records
from xinyong.sample.datasets import PENALTY_HEADERS, Dept, penalty_rows
from xinyong.sample.files import write_csv
from xinyong.sample.world import World
from xinyong.settings import Settings

XINYONG = [sys.executable, "-c", "from xinyong.cli import main; main()"]


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(batches)).scalar_one(),
            conn.execute(select(func.count()).select_from(records)).scalar_one(),
        )


def _written(engine: Engine, settings: Settings) -> int:
    """Bytes of rows written so far, committed or not."""
    if engine.dialect.name == "sqlite":
        wal = Path(f"{engine.url.database}-wal")
        return wal.stat().st_size if wal.exists() else 0
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_total_relation_size('records')")).scalar_one())


def test_a_killed_batch_stores_nothing_and_a_rerun_completes_it(
    engine: Engine, settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    samr = next(d for d in catalog.seed_departments.values() if "市场监督管理局" in d.name)
    path = tmp_path / "行政处罚.csv"
    world = World(seed=9, organisations=3000, persons=300)
    write_csv(
        path, PENALTY_HEADERS, penalty_rows(world, Dept(samr.uscc, samr.name), 100_000), "gbk"
    )
    env = {**os.environ, "XINYONG_DATABASE_URL": settings.database_url, **clock_env(settings)}
    args = [*XINYONG, "ingest", str(path), "--dataset", "XZCF", "--dept", samr.uscc, "--json"]

    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Wait until it is well into writing (several MB of uncommitted rows), then kill it hard.
    deadline = time.monotonic() + 120
    while _written(engine, settings) < 8_000_000:
        assert child.poll() is None, "the batch finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _counts(engine) == (0, 0)

    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # the sample has bad rows: some rejected
    receipt = json.loads(done.stdout)
    assert receipt["received"] == 100_000
    stored = receipt["new"] + receipt["pending"]
    assert _counts(engine) == (1, stored)
