"""`xinyong departments …`: the submitting departments (报送部门) of catalog/departments.yaml."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.catalog.loader import load_catalog
from xinyong.catalog.service import add_department
from xinyong.cli.catalog import CatalogOption, catalog_dir, console, reporting_errors
from xinyong.codes import division_name

app = typer.Typer(help="报送部门：查看和登记可向平台报送数据的单位", no_args_is_help=True)

_DEFAULT_DIVISION = "410900"


def _division(code: str) -> str:
    name = division_name(code)
    return f"{code} {name}" if name else code


@app.command("list")
def list_departments(catalog: CatalogOption = None) -> None:
    """列出报送部门及其可报送的数据集。"""
    with reporting_errors():
        cat = load_catalog(catalog_dir(catalog))
    table = Table(title=f"报送部门（{len(cat.departments)} 个）")
    for col in ("统一社会信用代码", "名称", "行政区划", "可报送数据集"):
        table.add_column(col)
    for dept in cat.departments.values():
        datasets = "、".join(
            f"{code} {cat.datasets[code].name}" if code in cat.datasets else code
            for code in dept.datasets
        )
        table.add_row(dept.uscc, escape(dept.name), _division(dept.division), escape(datasets))
    console().print(table)


@app.command("add")
def add(
    uscc: Annotated[str, typer.Argument(help="部门的统一社会信用代码")],
    name: Annotated[str, typer.Argument(help="部门全称，如 濮阳市市场监督管理局")],
    datasets: Annotated[
        str,
        typer.Option("--datasets", "-d", help="可报送的数据集代码或名称，以逗号分隔，如 XZCF,XZXK"),
    ],
    division: Annotated[
        str | None,
        typer.Option(
            "--division",
            help="行政区划代码（默认取统一社会信用代码第3–8位，无法识别时为 410900）",
            show_default=False,
        ),
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """登记一个报送部门（追加到 departments.yaml，保留文件中的注释）。"""
    refs = [d.strip() for d in datasets.replace("，", ",").split(",") if d.strip()]
    if division is None:
        # A 机关's code carries its own division in positions 3-8 (GB 32100).
        guess = uscc.strip().upper()[2:8]
        division = guess if guess.isdigit() and division_name(guess) else _DEFAULT_DIVISION
    with reporting_errors():
        dept = add_department(catalog_dir(catalog), uscc, name, refs, division=division)
    console().print(
        f"已登记报送部门：{escape(dept.name)}（{dept.uscc}，{_division(dept.division)}），"
        f"可报送：{'、'.join(dept.datasets) or '无'}",
        highlight=False,
    )
