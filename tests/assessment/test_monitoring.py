"""Data monitoring on both databases: a department silent past a dataset's expected period
(plus grace), one that never delivered, a volume above the expected bound (an operator's
edit of the catalogue), the daily step's findings (kept apart from its warnings, the same on
a second run), and the command."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from sqlalchemy import Engine
from typer.testing import CliRunner

from xinyong.assessment import monitoring
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.cli import app
from xinyong.clock import CHINA, FixedClock
from xinyong.jobs import run_daily
from xinyong.sample.datasets import PENALTY_HEADERS

DELIVERED = datetime(2026, 10, 13, 10, 0, tzinfo=CHINA)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DELIVERED)


@pytest.fixture
def delivered(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    rows = [
        penalty(
            XINYUAN,
            f"濮市监罚决字〔2026〕0{n}号",
            处罚决定日期="2026/10/09",
            处罚有效期="2027/10/09",
        )
        for n in range(101, 104)
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "p.csv", rows, PENALTY_HEADERS))
    assert receipt.rejected == 0


def _samr(flags: list[monitoring.Flag]) -> dict[str, str]:
    return {f.dataset: f.kind for f in flags if f.dept_uscc == SAMR.uscc}


@pytest.mark.usefixtures("delivered")
def test_silence_and_volume(engine: Engine, catalog: Catalog, catalog_dir: Path) -> None:
    with engine.connect() as conn:
        now = monitoring.flags(conn, catalog, date(2026, 10, 13))
        # a month and the 7 grace days after the last delivery: still not silent
        edge = monitoring.flags(conn, catalog, date(2026, 11, 20))
        later = monitoring.flags(conn, catalog, date(2026, 11, 21))
    # XZCF came today; 行政许可 and 法人登记 never came at all
    assert _samr(now) == {"XZXK": "silent", "FRJC": "silent"}
    never = next(f for f in now if f.dept_uscc == SAMR.uscc and f.dataset == "XZXK")
    assert "尚无报送记录" in never.message and never.last_delivery is None
    assert _samr(edge)["XZCF"] == "low"  # nothing stored in the last 31 days of 20 November
    assert _samr(later)["XZCF"] == "silent"
    silent = next(f for f in later if f.dept_uscc == SAMR.uscc and f.dataset == "XZCF")
    assert "最近一次报送为 2026-10-13" in silent.message and "每月" in silent.message
    # an operator bounds the monthly volume of 行政处罚 at 2 rows: 3 arrived
    path = catalog_dir / "datasets" / "XZCF.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("min_rows: 1,", "min_rows: 1, max_rows: 2,"), encoding="utf-8")
    bounded = load_catalog(catalog_dir)
    with engine.connect() as conn:
        high = monitoring.flags(conn, bounded, date(2026, 10, 13))
    flag = next(f for f in high if f.dept_uscc == SAMR.uscc and f.dataset == "XZCF")
    assert flag.kind == "high" and flag.rows == 3 and "超过预期的 2 条" in flag.message


@pytest.mark.usefixtures("delivered")
def test_daily_tells_the_findings_and_changes_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        first = run_daily(conn, as_of=date(2026, 10, 13), actor="测试")
    with engine.begin() as conn:
        second = run_daily(conn, as_of=date(2026, 10, 13), actor="测试")
    assert first.findings and first.findings == second.findings
    assert first.steps["monitoring.flags"] == second.steps["monitoring.flags"]
    assert first.steps["monitoring.flags"]["silent"] == len(first.findings)
    assert not any("数据监测" in w for w in first.warnings)
    assert any("濮阳市市场监督管理局：行政许可信息应每月报送" in f for f in first.findings)


@pytest.mark.usefixtures("delivered", "cli")
def test_the_command() -> None:
    answer = CliRunner().invoke(app, ["monitor", "--as-of", "2026-10-13", "--json"])
    assert answer.exit_code == 0, answer.output
    flags = json.loads(answer.stdout)["flags"]
    assert {"kind": "silent", "dataset": "XZXK", "dept_uscc": SAMR.uscc}.items() <= next(
        f for f in flags if f["dataset"] == "XZXK" and f["dept_uscc"] == SAMR.uscc
    ).items()
    text = CliRunner().invoke(app, ["monitor", "--as-of", "2026-10-13"], env={"COLUMNS": "300"})
    assert "逾期未报送" in text.stdout
