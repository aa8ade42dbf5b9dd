"""`xinyong departments …`: the submitting departments (报送部门) stored in the database.

The command line acts as the built-in operator; every change is an audit event. Nothing here
writes into the catalogue directory: departments.yaml only seeds a new database."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.accounts.roles import Principal
from xinyong.cli.catalog import console
from xinyong.cli.context import actor, catalog, local_time, print_json, transaction
from xinyong.codes import division_name
from xinyong.departments import service
from xinyong.departments.service import Department

app = typer.Typer(
    help="报送部门：查看、登记、修改、停用和启用可向平台报送数据的单位", no_args_is_help=True
)

_DEFAULT_DIVISION = "410900"

UsccArg = Annotated[str, typer.Argument(help="部门的统一社会信用代码")]
DatasetsHelp = "可报送的数据集代码或名称，以逗号分隔，如 XZCF,XZXK"
DivisionHelp = "行政区划代码（6位，如 410900）"


def _division(code: str) -> str:
    name = division_name(code)
    return f"{code} {name}" if name else code


def _refs(datasets: str) -> list[str]:
    return [d.strip() for d in datasets.replace("，", ",").split(",") if d.strip()]


def _principal() -> Principal:
    return Principal.cli(actor())


def _summary(dept: Department) -> str:
    state = "启用" if dept.enabled else "停用"
    return (
        f"{escape(dept.name)}（{dept.uscc}，{_division(dept.division)}，{state}），"
        f"可报送：{'、'.join(dept.datasets) or '无'}"
    )


def _as_json(dept: Department) -> dict[str, Any]:
    return {
        "uscc": dept.uscc,
        "name": dept.name,
        "division": dept.division,
        "datasets": list(dept.datasets),
        "enabled": dept.enabled,
        "origin": dept.origin,
        "updated_at": dept.updated_at,
    }


def _done(dept: Department, what: str, *, as_json: bool) -> None:
    if as_json:
        print_json(_as_json(dept))
    else:
        console().print(f"{what}：{_summary(dept)}", highlight=False)


JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]


@app.command("list")
def list_departments(
    enabled_only: Annotated[
        bool, typer.Option("--enabled-only", help="只列出启用的部门（默认也列出已停用的）")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """列出报送部门及其可报送的数据集。"""
    with transaction(as_json=as_json) as conn:
        depts = service.all_departments(conn, enabled_only=enabled_only)
    if as_json:
        print_json([_as_json(d) for d in depts.values()])
        return
    cat = catalog()
    table = Table(title=f"报送部门（{len(depts)} 个）")
    for col in ("统一社会信用代码", "名称", "行政区划", "可报送数据集", "状态", "来源", "修改时间"):
        table.add_column(col)
    for dept in depts.values():
        datasets = "、".join(
            f"{code} {cat.datasets[code].name}" if code in cat.datasets else code
            for code in dept.datasets
        )
        table.add_row(
            dept.uscc,
            escape(dept.name),
            _division(dept.division),
            escape(datasets),
            "启用" if dept.enabled else "停用",
            "目录初始" if dept.origin == "catalog" else "管理员登记",
            local_time(dept.updated_at),
        )
    console().print(table)


@app.command("add")
def add(
    uscc: UsccArg,
    name: Annotated[str, typer.Argument(help="部门全称，如 濮阳市市场监督管理局")],
    datasets: Annotated[str, typer.Option("--datasets", "-d", help=DatasetsHelp)],
    division: Annotated[
        str | None,
        typer.Option(
            "--division",
            help="行政区划代码（默认取统一社会信用代码第3–8位，无法识别时为 410900）",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """登记一个报送部门（记入数据库并写审计日志）。"""
    if division is None:
        # A 机关's code carries its own division in positions 3-8 (GB 32100).
        guess = uscc.strip().upper()[2:8]
        division = guess if guess.isdigit() and division_name(guess) else _DEFAULT_DIVISION
    detail = {"uscc": uscc.strip().upper()}
    with transaction(audit_as="department.add", audit_detail=detail, as_json=as_json) as conn:
        dept = service.add(
            conn,
            catalog(),
            _principal(),
            uscc=uscc,
            name=name,
            datasets=_refs(datasets),
            division=division,
        )
    _done(dept, "已登记报送部门", as_json=as_json)


@app.command("update")
def update(
    uscc: UsccArg,
    name: Annotated[str | None, typer.Option("--name", help="新的部门全称")] = None,
    datasets: Annotated[
        str | None, typer.Option("--datasets", "-d", help=DatasetsHelp + "（整体替换）")
    ] = None,
    division: Annotated[str | None, typer.Option("--division", help=DivisionHelp)] = None,
    as_json: JsonOpt = False,
) -> None:
    """修改报送部门的名称、可报送数据集或行政区划（写审计日志）。"""
    detail = {"uscc": uscc.strip().upper()}
    with transaction(audit_as="department.update", audit_detail=detail, as_json=as_json) as conn:
        dept = service.update_department(
            conn,
            catalog(),
            _principal(),
            uscc,
            name=name,
            datasets=None if datasets is None else _refs(datasets),
            division=division,
        )
    _done(dept, "已修改报送部门", as_json=as_json)


ReasonOpt = Annotated[str, typer.Option("--reason", help="原因（记入审计日志）")]


@app.command("disable")
def disable(uscc: UsccArg, reason: ReasonOpt = "", as_json: JsonOpt = False) -> None:
    """停用报送部门：此后不能再报送数据，已报送的记录保留（写审计日志）。"""
    detail = {"uscc": uscc.strip().upper()}
    with transaction(audit_as="department.disable", audit_detail=detail, as_json=as_json) as conn:
        dept = service.set_enabled(conn, _principal(), uscc, enabled=False, reason=reason)
    _done(dept, "已停用报送部门", as_json=as_json)


@app.command("enable")
def enable(uscc: UsccArg, reason: ReasonOpt = "", as_json: JsonOpt = False) -> None:
    """重新启用已停用的报送部门（写审计日志）。"""
    detail = {"uscc": uscc.strip().upper()}
    with transaction(audit_as="department.enable", audit_detail=detail, as_json=as_json) as conn:
        dept = service.set_enabled(conn, _principal(), uscc, enabled=True, reason=reason)
    _done(dept, "已启用报送部门", as_json=as_json)
