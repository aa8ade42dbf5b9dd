"""`xinyong audit`: check the audit chain, export its head, list events."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.accounts.alerts import day_start, query_alerts
from xinyong.audit.queries import QueryEntry, queries_about
from xinyong.audit.service import export_anchor, search, verify
from xinyong.cli.context import err, fail, local_time, out, settings, transaction
from xinyong.departments import service as departments
from xinyong.errors import NotFound, XinyongError
from xinyong.subjects.service import find_subject

app = typer.Typer(help="审计日志", no_args_is_help=True)


def _read_anchor(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(XinyongError("FILE_UNREADABLE", f"无法读取锚点文件：{exc}"))
    except ValueError:
        fail(XinyongError("AUDIT_ANCHOR_INVALID", f"锚点文件不是有效的 JSON：{path}"))
    if not isinstance(data, dict):
        fail(XinyongError("AUDIT_ANCHOR_INVALID", f"锚点文件应为 JSON 对象：{path}"))
    return data


@app.command("verify")
def verify_command(
    anchor: Annotated[
        Path | None, typer.Option("--anchor", help="先前用 audit anchor 导出的链头文件")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """逐条核验审计链：完整时退出码为 0，否则为 1 并指出第一条有问题的事件。"""
    external = _read_anchor(anchor) if anchor is not None else None
    # Read only: the check must never change what it checks.
    with transaction(rollback=True, as_json=as_json) as conn:
        result = verify(conn, external)
    if as_json:
        sys.stdout.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
        raise typer.Exit(0 if result.ok else 1)
    if not result.ok:
        err.print(f"[red]审计链已损坏[/red]：{result.reason}", highlight=False)
        chain = result.first_bad_chain
        where = f"第 {chain} 号链" if chain not in (None, 1) else ""
        err.print(f"第一条有问题的事件：{where}第 {result.first_bad_seq} 条", highlight=False)
        raise typer.Exit(1)
    out.print(result.reason, highlight=False)


@app.command("anchor")
def anchor_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="写入链头的文件")],
) -> None:
    """把当前链头导出为 JSON 文件，存放在数据库之外，日后用 audit verify --anchor 核对。"""
    with transaction(rollback=True) as conn:
        # A head exported from a broken chain would vouch for the damage.
        result = verify(conn)
        head = export_anchor(conn) if result.ok else None
    if head is None:
        err.print(f"[red]审计链已损坏，未导出链头[/red]：{result.reason}", highlight=False)
        raise typer.Exit(1)
    try:
        output.write_text(json.dumps(head, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(XinyongError("FILE_UNWRITABLE", f"无法写入锚点文件：{exc}"))
    out.print(f"已导出链头（第 {head['seq']} 条事件）到 {output}", highlight=False)


@app.command("list")
def list_command(
    actor: Annotated[str | None, typer.Option("--actor", help="操作人")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="操作代码，如 batch.ingest")
    ] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出最近的审计事件（最新在前）。"""
    with transaction(as_json=as_json, rollback=True) as conn:
        events = search(conn, actor=actor, action=action, limit=limit)
    if as_json:
        rows = [e.as_dict() for e in events]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table(title="审计事件")
    for col in ("序号", "时间", "操作人", "角色", "部门", "操作", "结果", "主体", "记录", "批次"):
        table.add_column(col)
    for e in events:
        table.add_row(
            str(e.seq),
            local_time(e.at),
            e.actor,
            e.role,
            e.dept_uscc or "",
            e.action,
            e.outcome,
            *("" if v is None else str(v) for v in (e.subject_id, e.record_id, e.batch_id)),
        )
    out.print(table)


@app.command("queries")
def queries_command(
    subject_code: Annotated[str, typer.Argument(help="信用主体的统一社会信用代码、身份证号等")],
    since: Annotated[
        str | None, typer.Option("--since", help="只列出该日期（YYYY-MM-DD，北京时间）之后的查询")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出其他单位查询该信用主体非公开信息的记录（“谁查询了我”），最新在前。"""
    start = _beijing_day(since, as_json) if since else None
    missing: NotFound | None = None
    entries: list[QueryEntry] = []
    with transaction(as_json=as_json, rollback=True) as conn:
        try:
            subject = find_subject(conn, subject_code)
            entries = queries_about(
                conn, subject["id"], dept_names=departments.names(conn), since=start
            )
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if as_json:
        sys.stdout.write(json.dumps([e.as_dict() for e in entries], ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{escape(subject['name'])} 的被查询记录（{len(entries)} 条）")
    for col in ("时间", "查询单位", "角色", "查询内容", "用途"):
        table.add_column(col)
    for e in entries:
        table.add_row(e.when, escape(e.dept_name), e.role_label, e.what, escape(e.purpose or ""))
    out.print(table)


@app.command("alerts")
def alerts_command(
    day: Annotated[
        str | None, typer.Option("--date", help="查看哪一天（YYYY-MM-DD，北京时间；默认今天）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """查询量异常预警：当天查询的信用主体数远超平日的账号。"""
    as_of = None
    if day:
        # The last moment of that Beijing day.
        as_of = _beijing_day(day, as_json) + timedelta(days=1, microseconds=-1)
    with transaction(as_json=as_json, rollback=True) as conn:
        found = query_alerts(conn, settings(), as_of=as_of)
        dept_names = departments.names(conn)
    if as_json:
        sys.stdout.write(json.dumps([a.as_dict() for a in found], ensure_ascii=False) + "\n")
        return
    if not found:
        out.print("没有查询量异常的账号。")
        return
    table = Table(title=f"查询量异常预警（{len(found)} 个账号）")
    for col in ("账号", "角色", "部门", "日期", "查询主体数", "平日", "阈值"):
        table.add_column(col)
    for a in found:
        table.add_row(
            escape(a.actor),
            a.role_label,
            escape(dept_names.get(a.dept_uscc, a.dept_uscc) if a.dept_uscc else ""),
            a.day.isoformat(),
            str(a.subjects),
            f"{a.usual:g}",
            f"{a.threshold:g}",
        )
    out.print(table)


def _beijing_day(value: str, as_json: bool) -> datetime:
    try:
        return day_start(date.fromisoformat(value.strip()))
    except ValueError:
        fail(
            XinyongError("DATE_INVALID", f"日期应为 YYYY-MM-DD 格式，而不是“{value}”"),
            as_json=as_json,
        )
