"""`xinyong check FILE --matter M [--name N] [--dept USCC] --output OUT.csv|xlsx`: a bulk check."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from xinyong.accounts.roles import Principal, Role
from xinyong.checks.files import read_bulk_file, write_bulk_result
from xinyong.checks.service import run_bulk_check
from xinyong.cli.context import actor, catalog, fail, out, settings, transaction
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.measures.catalog import load_measures, measures_dir


def check_command(
    file: Annotated[Path, typer.Argument(help="CSV 或 XLSX，每行一个主体（代码列和/或名称列）")],
    matter: Annotated[
        str, typer.Option("--matter", help="业务事项代码或名称，如 licensing / 行政许可")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="结果文件 .csv 或 .xlsx")],
    name: Annotated[
        str | None, typer.Option("--name", help="核查名称：与本部门上次同名核查比较")
    ] = None,
    dept: Annotated[
        str | None, typer.Option("--dept", help="以此部门名义核查（统一社会信用代码）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """批量核查（最多 100,000 个主体）：每个主体一行结果，并与上次同名核查比较变化。"""
    if output.suffix.lower() not in (".csv", ".xlsx"):
        fail(XinyongError("OUTPUT_FORMAT", "结果文件须为 .csv 或 .xlsx"), as_json=as_json)
    cat = catalog()
    try:
        rows = read_bulk_file(file)
        measures = load_measures(measures_dir(cat), cat)
    except XinyongError as exc:
        fail(exc, as_json=as_json)
    dept_uscc = None
    if dept:
        with transaction(as_json=as_json, rollback=True) as conn:
            dept_uscc = departments.get(conn, dept).uscc
    host = socket.gethostname()
    principal = Principal(role=Role.OPERATOR, name=actor(), dept_uscc=dept_uscc, source=host)
    with transaction(as_json=as_json, audit_as="check.bulk") as conn:
        result = run_bulk_check(
            conn, cat, measures, principal, rows, matter=matter, name=name, settings=settings()
        )
        write_bulk_result(output, result.rows)
    summary = result.summary() | {"output": str(output)}
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    out.print(
        f"核查号 {result.check_id}：{summary['rows']} 行，"
        f"有命中主体 {summary['subjects_with_hits']} 个；结果已写入 {output}",
        highlight=False,
    )
    out.print("、".join(f"{k} {v}" for k, v in summary["by_status"].items()), highlight=False)
    if result.deadline is not None:
        note = (
            "（暂定：该年的工作日历尚未公布，按周一至周五计算）"
            if result.deadline_provisional
            else ""
        )
        out.print(f"反馈期限：{result.deadline.isoformat()}{note}", highlight=False)
    if result.previous_id is not None:
        out.print(
            f"与上次核查（{result.previous_id}）相比：新增命中 {result.new_hits}，"
            f"消失命中 {result.gone_hits}，状态变化 {result.changed_hits}",
            highlight=False,
        )
