"""`xinyong check FILE --matter M [--name N] [--dept USCC] --output OUT.csv|xlsx`: a bulk check."""

from __future__ import annotations

import csv
import json
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from xinyong.accounts.roles import Principal, Role
from xinyong.checks.service import BulkRow, run_bulk_check
from xinyong.cli.context import actor, catalog, fail, out, settings, transaction
from xinyong.errors import FileRefused, XinyongError
from xinyong.ingest.readers import open_source
from xinyong.measures.catalog import load_measures, measures_dir

CODE_HEADERS = (
    "统一社会信用代码",
    "代码",
    "主体代码",
    "证件号码",
    "身份证号码",
    "组织机构代码",
    "注册号",
    "工商注册号",
    "信用代码",
)
NAME_HEADERS = ("名称", "主体名称", "企业名称", "单位名称", "姓名", "姓名/名称")
OUT_HEADERS = [
    "序号",
    "输入",
    "核查结果",
    "主体名称",
    "主体代码",
    "命中",
    "应当实施的惩戒措施",
    "可以实施的惩戒措施",
    "激励措施",
    "不再触发的措施",
    "异议/修复状态",
    "候选主体",
    "与上次核查相比",
]


def _read(path: Path) -> list[tuple[str | None, str | None]]:
    source = open_source(path)
    try:
        heads = [h.strip() for h in source.headers]
        code_at = next((i for i, h in enumerate(heads) if h in CODE_HEADERS), None)
        name_at = next((i for i, h in enumerate(heads) if h in NAME_HEADERS), None)
        if code_at is None and name_at is None:
            if len(heads) != 1:
                raise FileRefused(
                    "BULK_NO_COLUMN",
                    "找不到主体代码列或名称列；表头应含“统一社会信用代码”（或“证件号码”）或“名称”",
                )
            code_at = 0
        rows: list[tuple[str | None, str | None]] = []
        for _, cells, problem in source.rows:
            if problem:
                raise FileRefused("BULK_ROW_UNREADABLE", problem)
            code = cells[code_at].strip() if code_at is not None and code_at < len(cells) else None
            name = cells[name_at].strip() if name_at is not None and name_at < len(cells) else None
            if code or name:
                rows.append((code or None, name or None))
        return rows
    finally:
        source.close()


def _line(r: BulkRow) -> list[str]:
    return [
        str(r.row_no),
        r.given,
        r.status,
        r.name or "",
        r.code or "",
        "；".join(r.hits),
        "、".join(r.must),
        "、".join(r.may),
        "、".join(r.rewards),
        "、".join(r.no_longer),
        "、".join(r.subject_state),
        "、".join(r.candidates),
        "；".join(r.changes),
    ]


def _write(path: Path, rows: list[BulkRow]) -> None:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("核查结果")
        ws.append(OUT_HEADERS)
        for r in rows:
            ws.append(_line(r))
        wb.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads it as UTF-8
        w = csv.writer(fh)
        w.writerow(OUT_HEADERS)
        for r in rows:
            w.writerow(_line(r))


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
        rows = _read(file)
        measures = load_measures(measures_dir(cat), cat)
        dept_uscc = cat.department(dept).uscc if dept else None
    except XinyongError as exc:
        fail(exc, as_json=as_json)
    host = socket.gethostname()
    principal = Principal(role=Role.OPERATOR, name=actor(), dept_uscc=dept_uscc, source=host)
    with transaction(as_json=as_json, audit_as="check.bulk") as conn:
        result = run_bulk_check(
            conn, cat, measures, principal, rows, matter=matter, name=name, settings=settings()
        )
        _write(output, result.rows)
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
    if result.previous_id is not None:
        out.print(
            f"与上次核查（{result.previous_id}）相比：新增命中 {result.new_hits}，"
            f"消失命中 {result.gone_hits}，状态变化 {result.changed_hits}",
            highlight=False,
        )
