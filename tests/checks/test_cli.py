"""`xinyong check` and `xinyong measures` on the test databases."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fixtures.deliveries import HENGDA, XINYUAN
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine
from typer.testing import CliRunner

from xinyong.catalog.loader import Catalog
from xinyong.cli import app

runner = CliRunner()


def test_bulk_check_file_twice_shows_the_change(
    cli: None, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕1号", NDRC)],
    )
    src = tmp_path / "holders.csv"
    src.write_text(
        f"统一社会信用代码,名称\n{XINYUAN.uscc},\n{HENGDA.uscc},\n,无代码商店\n", encoding="utf-8"
    )
    args = [
        "check",
        str(src),
        "--matter",
        "行政许可",
        "--name",
        "月度",
        "--dept",
        "11410900PY00000577",
        "--json",
    ]
    first = runner.invoke(app, [*args, "--output", str(tmp_path / "1.csv")])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["subjects_with_hits"] == 1
    with (tmp_path / "1.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["核查结果"] for r in rows] == ["已核查", "未找到", "仅名称（需代码）"]
    assert "严重失信主体名单" in rows[0]["命中"] and "HN34-2" in rows[0]["应当实施的惩戒措施"]
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), HENGDA, "濮发改信〔2026〕2号", NDRC)],
        name="b.csv",
    )
    second = runner.invoke(app, [*args, "--output", str(tmp_path / "2.xlsx")])
    assert second.exit_code == 0, second.output
    summary = json.loads(second.output)
    assert summary["previous_check_id"] is not None and summary["new_hits"] == 1
    bad_args = ["check", str(src), "--matter", "买菜", "--json"]
    bad = runner.invoke(app, [*bad_args, "--output", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and json.loads(bad.output)["error"]["code"] == "MATTER_UNKNOWN"


def test_measures_commands(cli: None) -> None:
    shown = runner.invoke(app, ["measures", "show", "HN34-4", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["content"] == "限制高消费"
    missing = runner.invoke(app, ["measures", "show", "NOPE-1", "--json"])
    assert missing.exit_code == 1
    listed = runner.invoke(app, ["measures", "list", "--matter", "high_consumption", "--json"])
    assert {m["id"] for m in json.loads(listed.output)["measures"]} == {"HN34-4", "ST-CONS-01"}
    stats = runner.invoke(app, ["measures", "stats", "--json"])
    assert stats.exit_code == 0 and json.loads(stats.output) == {
        "by_department": [],
        "by_measure": [],
    }
