"""`xinyong catalog …` and `xinyong departments …` through the command line, mounted on a root
Typer as the real CLI does. Department changes go into a copy of the catalogue only."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from xinyong.cli import catalog as catalog_cli
from xinyong.cli import departments as departments_cli
from xinyong.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
NEW = "11410923PY000017XD"  # synthetic 南乐县 unit, valid on both check characters

root = typer.Typer()
root.add_typer(catalog_cli.app, name="catalog")
root.add_typer(departments_cli.app, name="departments")


def run(*args: str) -> Result:
    # Wide enough that rich does not fold the Chinese table cells.
    return CliRunner().invoke(root, list(args), env={"COLUMNS": "250", "TERM": "xterm"})


def flat(text: str) -> str:
    """Error messages wrap at the terminal width; compare them without the line breaks."""
    return "".join(text.split())


def test_catalog_dir_defaults_to_the_settings() -> None:
    assert catalog_cli.catalog_dir() == get_settings().catalog_dir
    assert catalog_cli.catalog_dir(Path("/tmp/x")) == Path("/tmp/x")


def test_catalog_list() -> None:
    result = run("catalog", "list", "--catalog", str(ROOT / "catalog"))
    assert result.exit_code == 0, result.output
    for text in ("代码", "信息项数", "XZCF", "行政处罚信息", "SXBZX", "失信被执行人", "政务共享"):
        assert text in result.output


def test_catalog_list_uses_the_settings_by_default() -> None:
    result = run("catalog", "list")
    assert result.exit_code == 0, result.output
    assert "XZCF" in result.output


def test_catalog_show() -> None:
    result = run("catalog", "show", "XZXK", "--catalog", str(ROOT / "catalog"))
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("行政许可信息", "基础", "公开公示", "XK_WSH", "许可类别", "01 普通", "C03"):
        assert text in out
    assert "行政许可决定文书号（XK_WSH）" in out  # the natural key, in words
    assert "“有效期至”不得早于“有效期自”" in out


def test_catalog_show_by_name() -> None:
    result = run("catalog", "show", "纳税信用等级", "--catalog", str(ROOT / "catalog"))
    assert result.exit_code == 0, result.output
    assert "NS_XYDJ" in result.output


def test_catalog_show_unknown_dataset() -> None:
    result = run("catalog", "show", "NOPE", "--catalog", str(ROOT / "catalog"))
    assert result.exit_code == 2
    assert "目录中没有数据集“NOPE”" in flat(result.output)
    assert "Traceback" not in result.output


def test_catalog_template_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "模板" / "XZCF.xlsx"
    result = run(
        "catalog", "template", "XZCF", "--format", "xlsx", "--output", str(out),
        "--catalog", str(ROOT / "catalog"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已生成报送模板" in result.output
    ws = load_workbook(out)["数据"]
    assert ws["A2"].value == "CF_XDR_MC"


def test_catalog_template_csv(tmp_path: Path) -> None:
    out = tmp_path / "SXBZX.csv"
    result = run("catalog", "template", "sxbzx", "-f", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "SXBZX_填写说明.csv").exists()
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][0] == "MD_ZTMC"


def test_catalog_template_bad_format(tmp_path: Path) -> None:
    result = run("catalog", "template", "XZCF", "--format", "pdf", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2


def test_catalog_broken_directory(tmp_path: Path) -> None:
    result = run("catalog", "list", "--catalog", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "目录文件夹不存在" in flat(result.output)
    assert "Traceback" not in result.output
