"""`xinyong cases file|list|show|decide|pause|resume`: cases (办件) from the command line.

The command line acts as the platform's operator (``cli:user@host``); ``--dept USCC`` acts as
that department's clerk instead, so that a department's decision is checked against the queue
that owns the case. A refused command is an audit event (``case.refused``).
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from xinyong import clock
from xinyong.accounts.roles import Principal, Role
from xinyong.cases import complaints, objections, service
from xinyong.cases import files as case_files
from xinyong.cases.decide import decide_case
from xinyong.cli.context import actor, catalog, fail, out, settings, transaction
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.workdays.calendar import WorkCalendar, calendar_dir, work_calendar

app = typer.Typer(help="办件：异议、信用修复、失信举报的受理、查询与办理", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]
DeptOpt = Annotated[
    str | None, typer.Option("--dept", help="以该部门经办人身份办理（统一社会信用代码或名称）")
]


def _principal(dept: str | None, as_json: bool) -> Principal:
    host = socket.gethostname()
    if dept is None:
        return Principal(role=Role.OPERATOR, name=actor(), source=host)
    uscc = _dept_code(dept, as_json)
    return Principal(role=Role.CLERK, name=actor(), dept_uscc=uscc, source=host)


def _dept_code(dept: str, as_json: bool) -> str:
    with transaction(as_json=as_json, rollback=True) as conn:
        return departments.get(conn, dept).uscc


def _calendar(as_json: bool) -> WorkCalendar:
    try:
        return work_calendar(calendar_dir(settings().catalog_dir))
    except XinyongError as exc:
        fail(exc, as_json=as_json)


def _emit(found: service.Case, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        payload = found.as_dict() | (extra or {})
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    out.print(
        f"{found.kind_label}办件 {found.case_no}：{found.state_label}，"
        f"办理期限 {found.deadline_label()}"
        + (
            f"，结果：{found.outcome_label}（{escape(found.outcome_reason or '')}）"
            if found.outcome
            else ""
        ),
        highlight=False,
    )
    for key, value in (extra or {}).items():
        out.print(f"{key}：{value}", highlight=False)


def _audit(case_no: str | None, what: str) -> dict[str, Any]:
    return {"case_no": case_no, "command": f"cases {what}"}


@app.command("file")
def file_command(
    record_id: Annotated[
        int | None, typer.Argument(help="异议所指的记录编号（名单条目亦为记录）；举报不需要")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="异议事由；举报的失信行为事实")] = "",
    kind: Annotated[
        str, typer.Option("--kind", help="objection：异议（默认）；complaint：失信举报")
    ] = "objection",
    route: Annotated[
        str, typer.Option("--route", help="department：信息内容有误；platform：平台归集或展示有误")
    ] = "department",
    subject: Annotated[
        str | None, typer.Option("--subject", help="举报：被举报对象的统一社会信用代码或名称")
    ] = None,
    industry: Annotated[
        str | None, typer.Option("--industry", help="举报：所属行业（catalog/complaints）")
    ] = None,
    to_dept: Annotated[
        str | None, typer.Option("--to-dept", help="举报：举报人选择的受理部门（统一社会信用代码）")
    ] = None,
    reporter: Annotated[str, typer.Option("--reporter", help="举报：举报人姓名")] = "",
    contact: Annotated[str, typer.Option("--contact", help="举报：举报人联系方式")] = "",
    evidence: Annotated[
        list[Path] | None, typer.Option("--file", help="证据材料（PDF、JPEG、PNG），可多次给出")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """窗口代录异议（受理后记录即显示为“异议处理中”）或失信举报（--kind complaint）。"""
    principal = _principal(None, as_json)
    cal = _calendar(as_json)
    if kind not in ("objection", "complaint"):
        fail(
            XinyongError("CASE_KIND_NOT_FILED_HERE", "--kind 须为 objection 或 complaint"),
            as_json=as_json,
        )
    if kind == "objection" and record_id is None:
        fail(XinyongError("RECORD_REQUIRED", "异议须给出所指的记录编号"), as_json=as_json)
    if kind == "complaint" and not subject:
        fail(
            XinyongError("COMPLAINT_SUBJECT_REQUIRED", "举报须用 --subject 给出被举报对象"),
            as_json=as_json,
        )
    try:
        uploads = [case_files.Upload(p.name, p.read_bytes()) for p in evidence or []]
    except OSError as exc:
        fail(XinyongError("FILE_UNREADABLE", f"无法读取证据材料：{exc}"), as_json=as_json)
    with transaction(
        as_json=as_json, audit_as="case.refused", audit_detail=_audit(None, "file")
    ) as conn:
        if kind == "complaint":
            assert subject is not None
            code_given = subject.strip().upper()
            looks_like_code = len(code_given) == 18 and code_given.isalnum()
            found, code = complaints.file_complaint(
                conn,
                principal,
                catalog(),
                cal,
                subject_name="" if looks_like_code else subject,
                subject_code=code_given if looks_like_code else "",
                reason=reason,
                industry=industry,
                dept=to_dept,
                reporter_name=reporter,
                reporter_contact=contact,
                uploads=uploads,
                data_dir=settings().data_dir,
            )
        else:
            assert record_id is not None
            found, code = objections.file_objection(
                conn,
                principal,
                cal,
                record_id,
                reason=reason,
                route=route,
                uploads=uploads,
                data_dir=settings().data_dir,
            )
    _emit(found, as_json, {"follow_code": code} if as_json else {"查询码（仅显示一次）": code})


@app.command("list")
def list_command(
    dept: Annotated[str | None, typer.Option("--dept", help="只看该部门的队列")] = None,
    platform: Annotated[bool, typer.Option("--platform", help="只看平台（信用办）的队列")] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="objection / repair / complaint")
    ] = None,
    closed: Annotated[bool, typer.Option("--all", help="包括已办结的办件")] = False,
    as_json: JsonOpt = False,
) -> None:
    """办件队列：已超期的在前，其次按期限先后。"""
    principal = _principal(None, as_json)
    cal = _calendar(as_json)
    dept_uscc = None
    if dept:
        dept_uscc = _dept_code(dept, as_json)
    with transaction(as_json=as_json) as conn:
        found = service.list_cases(
            conn,
            principal,
            dept_uscc=dept_uscc,
            platform=platform,
            kind=kind,
            open_only=not closed,
        )
        today = clock.today(conn)
    if as_json:
        rows = [c.as_dict() | {"urgency": c.urgency(today, cal)} for c in found]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    if not found:
        out.print("没有符合条件的办件。")
        return
    marks = {"overdue": "已超期", "due": "临期", "paused": "中止计时", "ok": "", "closed": "已办结"}
    for c in found:
        out.print(
            f"{c.case_no}  {c.kind_label}  {c.state_label}  期限 {c.deadline_label()}  "
            f"{c.dept_uscc or '平台'}  {marks[c.urgency(today, cal)]}",
            highlight=False,
        )


@app.command("show")
def show_command(case_no: str, dept: DeptOpt = None, as_json: JsonOpt = False) -> None:
    """一个办件及其全部办理记录。"""
    principal = _principal(dept, as_json)
    with transaction(
        as_json=as_json, audit_as="case.refused", audit_detail=_audit(case_no, "show")
    ) as conn:
        found = service.case_for(conn, principal, case_no)
        events = service.history(conn, found.id, internal=True)
    if as_json:
        payload = found.as_dict() | {
            "events": [
                {
                    "kind": e["kind"],
                    "from_state": e["from_state"],
                    "to_state": e["to_state"],
                    "actor": e["actor"],
                    "reason": e["reason"],
                    "at": e["at"].isoformat(),
                }
                for e in events
            ]
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    _emit(found, False)
    out.print(f"事由：{escape(found.reason)}", highlight=False)
    for e in events:
        out.print(
            f"  {e['at']:%Y-%m-%d %H:%M}  {e['kind']}  {e['actor']}  {escape(e['reason'] or '')}",
            highlight=False,
        )


@app.command("decide")
def decide_command(
    case_no: str,
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="corrected / partly_corrected / upheld（异议）；approved / rejected（信用修复）；"
            "substantiated / unsubstantiated / referred（举报）",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="决定的理由")],
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """作出办理决定并办结；办结后不能再变更。"""
    principal = _principal(dept, as_json)
    with transaction(
        as_json=as_json, audit_as="case.refused", audit_detail=_audit(case_no, "decide")
    ) as conn:
        cat = catalog()
        closed = decide_case(
            conn,
            principal,
            cat,
            load_measures(measures_dir(cat), cat),
            case_no,
            outcome=outcome,
            reason=reason,
        )
    _emit(closed, as_json)


@app.command("pause")
def pause_command(
    case_no: str,
    reason: Annotated[str, typer.Option("--reason", help="中止计时的理由")],
    cause: Annotated[
        str, typer.Option("--cause", help="inspection：检验、检测、鉴定；material：等待补正材料")
    ] = "inspection",
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """中止计时（检验、检测、鉴定；或按办件类型的规定等待补正材料），恢复后期限顺延。"""
    principal = _principal(dept, as_json)
    cal = _calendar(as_json)
    with transaction(
        as_json=as_json, audit_as="case.refused", audit_detail=_audit(case_no, "pause")
    ) as conn:
        found = service.pause(conn, principal, cal, case_no, cause=cause, reason=reason)
    _emit(found, as_json)


@app.command("resume")
def resume_command(
    case_no: str,
    reason: Annotated[str, typer.Option("--reason", help="恢复计时的理由")],
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """恢复计时：期限按中止的工作日数顺延。"""
    principal = _principal(dept, as_json)
    cal = _calendar(as_json)
    with transaction(
        as_json=as_json, audit_as="case.refused", audit_detail=_audit(case_no, "resume")
    ) as conn:
        found = service.resume(conn, principal, cal, case_no, reason)
    _emit(found, as_json)
