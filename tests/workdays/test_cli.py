"""`xinyong calendar show` and `xinyong calendar add-workdays`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.cli import reset_cli
from typer.testing import CliRunner

from xinyong.cli import app


@pytest.fixture(autouse=True)
def on_catalog(catalog_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XINYONG_CATALOG_DIR", str(catalog_dir))
    monkeypatch.setenv("COLUMNS", "250")
    reset_cli()
    yield
    reset_cli()


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_show_a_year_with_its_notice() -> None:
    text = run("calendar", "show", "2026")
    assert "工作日 248 天" in text and "国办发明电〔2025〕7号" in text and "2025年11月4日" in text
    assert "2026-10-10（周六）" in text and "2026-02-14（周六）、2026-02-28（周六）" in text
    answer = json.loads(run("calendar", "show", "2025", "--json"))
    assert answer["notice"]["document_no"] == "国办发明电〔2024〕12号"
    spring = next(h for h in answer["holidays"] if h["name"] == "春节")
    assert spring == {
        "name": "春节",
        "start": "2025-01-28",
        "end": "2025-02-04",
        "days": 8,
        "workdays": ["2025-01-26", "2025-02-08"],
    }


def test_show_an_unknown_year() -> None:
    assert "2027 年的工作日历未知" in run("calendar", "show", "2027")
    assert json.loads(run("calendar", "show", "2027", "--json"))["known"] is False


def test_add_workdays() -> None:
    assert "2026-10-10（周六）" in run("calendar", "add-workdays", "2026-09-30", "3")
    text = run("calendar", "add-workdays", "2026-12-21", "10")
    assert "2027-01-04（周一）（暂定：2027 年的工作日历未知" in text
    answer = json.loads(run("calendar", "add-workdays", "2026-12-21", "10", "--json"))
    assert answer == {
        "start": "2026-12-21",
        "working_days": 10,
        "date": "2027-01-04",
        "provisional": True,
        "unknown_years": [2027],
    }


def test_bad_input_and_a_broken_file_are_answered(catalog_dir: Path) -> None:
    bad = CliRunner().invoke(app, ["calendar", "add-workdays", "2026-02-30", "3", "--json"])
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"]["code"] == "DATE_INVALID"
    (catalog_dir / "calendar" / "2027.yaml").write_text("year: 2027\n", encoding="utf-8")
    broken = CliRunner().invoke(app, ["calendar", "show", "2026", "--json"])
    assert broken.exit_code == 2
    error = json.loads(broken.stdout)["error"]
    assert error["code"] == "CALENDAR_INVALID" and "2027.yaml" in error["message"]
