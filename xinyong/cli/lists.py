"""`xinyong lists notice|exit|change|show|history`: the lists lifecycle (名单办理) from the
command line.

The command line acts as the platform's operator; ``--dept`` acts as that department's clerk,
so that only the designating department's entries can be touched. ``notice`` records a written
prior notice (事前告知, Henan art. 28) with its objection window; ``exit`` ends an entry early
with a reason and publishes the exit notice (art. 37); ``show`` lists the department's entries
or shows one; ``change`` corrects an entry (dates, basis, document, responsible persons) with
a reason; ``history`` a subject's list events and the lists it was on at a date. A refused
command is an audit event (``list.refused``).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape

from xinyong.cli.cases import DeptOpt, JsonOpt, _principal
from xinyong.cli.context import catalog, fail, out, transaction
from xinyong.errors import XinyongError
from xinyong.lists import desk
from xinyong.lists.change import EntryChange, Person, change_entry
from xinyong.lists.notices import record_prior_notice
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.subjects.service import find_subject

app = typer.Typer(help="名单办理：事前告知、提前移出、名单条目与名单历史", no_args_is_help=True)


def _measures() -> Measures:
    cat = catalog()
    return load_measures(measures_dir(cat), cat)


def _json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


def _subject_id(conn: Any, subject: str) -> int:
    if subject.isdigit() and len(subject) < 12:
        return int(subject)
    return int(find_subject(conn, subject)["id"])


@app.command("notice")
def notice_command(
    subject: Annotated[str, typer.Argument(help="主体的统一社会信用代码、身份证号或主体编号")],
    dataset: Annotated[str, typer.Option("--dataset", help="名单数据集代码，如 YZSX")],
    basis: Annotated[str, typer.Option("--basis", help="认定依据")],
    reasons: Annotated[str, typer.Option("--reasons", help="事实和理由")],
    served_on: Annotated[str, typer.Option("--served-on", help="送达日期 YYYY-MM-DD")],
    kind: Annotated[str | None, typer.Option("--kind", help="名单类别代码（名单目录）")] = None,
    doc_no: Annotated[str | None, typer.Option("--doc-no", help="告知书文号")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=60, help="异议期（日）")] = 5,
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记书面事前告知（含异议期与将实施的措施），列入名单之前。"""
    principal = _principal(dept, as_json)
    cat = catalog()
    with transaction(
        as_json=as_json, audit_as="list.refused", audit_detail={"command": "lists notice"}
    ) as conn:
        found = record_prior_notice(
            conn,
            cat,
            _measures(),
            principal,
            dataset=dataset,
            subject_id=_subject_id(conn, subject),
            basis=basis,
            reasons=reasons,
            served_on=_date(served_on),
            doc_no=doc_no,
            objection_days=days,
            list_kind=kind,
        )
    if as_json:
        _json(found)
        return
    out.print(
        f"已登记事前告知 {found['id']}（{escape(found['doc_no'] or '无文号')}），"
        f"送达 {found['served_on']}，异议期至 {found['objection_until']}；"
        f"列入后将实施措施：{'、'.join(found['measures']) or '无'}",
        highlight=False,
    )


@app.command("exit")
def exit_command(
    record_id: Annotated[int, typer.Argument(help="名单条目（记录）编号")],
    reason: Annotated[
        str, typer.Option("--reason", help="移出原因：performed（已履行）或 source（认定部门决定）")
    ],
    basis: Annotated[str, typer.Option("--basis", help="移出依据和说明")],
    on: Annotated[str | None, typer.Option("--on", help="移出日期（默认今天）")] = None,
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """提前移出名单：发布移出公告，通知实施措施的部门停止实施。"""
    principal = _principal(dept, as_json)
    cat = catalog()
    with transaction(
        as_json=as_json,
        audit_as="list.refused",
        audit_detail={"command": "lists exit", "record": record_id},
    ) as conn:
        found = desk.exit_early(
            conn,
            cat,
            _measures(),
            principal,
            record_id,
            reason=reason,
            basis=basis,
            on=_date(on) if on else None,
        )
    if as_json:
        _json(found)
        return
    out.print(
        f"条目 {record_id}（{escape(found['subject_name'] or '')}）已于 {found['exited_on']} "
        f"移出{escape(found['dataset_name'])}（{found['exit_reason_label']}），已发布移出公告",
        highlight=False,
    )


def _person(value: str | None) -> Person | None:
    """``姓名`` or ``姓名,身份证号``; an empty value removes the person."""
    if value is None or not value.strip():
        return None
    name, _, number = value.partition(",")
    return Person(name.strip(), number.strip() or None)


@app.command("change")
def change_command(
    record_id: Annotated[int, typer.Argument(help="名单条目（记录）编号")],
    reason: Annotated[str, typer.Option("--reason", help="变更理由")],
    listed_on: Annotated[str | None, typer.Option("--listed-on", help="列入日期")] = None,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="有效期至；none 为长期有效")
    ] = None,
    basis: Annotated[str | None, typer.Option("--basis", help="认定依据")] = None,
    facts: Annotated[str | None, typer.Option("--facts", help="列入事由")] = None,
    doc_no: Annotated[str | None, typer.Option("--doc-no", help="认定文书号")] = None,
    legal_rep: Annotated[
        str | None, typer.Option("--legal-rep", help="法定代表人：姓名[,身份证号]；空串为删除")
    ] = None,
    controller: Annotated[
        str | None, typer.Option("--controller", help="实际控制人：姓名[,身份证号]")
    ] = None,
    responsible: Annotated[
        str | None, typer.Option("--responsible", help="直接责任人：姓名[,身份证号]")
    ] = None,
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """变更名单条目（日期、依据、文书号、责任人……），写明理由；通知实施措施的部门。"""
    principal = _principal(dept, as_json)
    cat = catalog()
    cleared = valid_until is not None and valid_until.strip().lower() == "none"
    persons = tuple(
        (role, _person(value))
        for role, value in (
            ("legal_rep", legal_rep),
            ("controller", controller),
            ("responsible", responsible),
        )
        if value is not None
    )
    with transaction(
        as_json=as_json,
        audit_as="list.refused",
        audit_detail={"command": "lists change", "record": record_id},
    ) as conn:
        changed = change_entry(
            conn,
            cat,
            _measures(),
            principal,
            record_id,
            EntryChange(
                listed_on=_date(listed_on) if listed_on else None,
                valid_until=_date(valid_until) if valid_until and not cleared else None,
                valid_until_cleared=cleared,
                basis=basis,
                facts=facts,
                doc_no=doc_no,
                persons=persons,
            ),
            reason=reason,
        )
    if as_json:
        _json({"record_id": record_id, "changed": changed})
        return
    out.print(
        f"条目 {record_id} 已变更："
        + "；".join(f"{k} {a or '空'} → {b or '空'}" for k, (a, b) in changed.items()),
        highlight=False,
    )


@app.command("show")
def show_command(
    record_id: Annotated[int | None, typer.Argument(help="条目编号；不给则列出条目")] = None,
    status: Annotated[str | None, typer.Option("--status", help="listed 或 exited")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出本部门的名单条目，或显示一个条目的事件与告知、公告。"""
    principal = _principal(dept, as_json)
    cat = catalog()
    with transaction(as_json=as_json, rollback=True) as conn:
        if record_id is None:
            found = desk.entries_for(conn, cat, principal, status=status, limit=limit)
        else:
            found = desk.entry_for(conn, cat, principal, record_id)
    if as_json:
        _json(found)
        return
    if record_id is None:
        out.print(f"共 {found['total']} 个条目", highlight=False)
        for e in found["items"]:
            out.print(_line(e), highlight=False)
        return
    out.print(_line(found), highlight=False)
    for ev in found["events"]:
        out.print(f"  {ev['on_date']} {ev['label']} {escape(ev['reason'] or '')}", highlight=False)
    for n in found["notices"]:
        what = "事前告知" if n["kind"] == "prior" else "移出公告"
        out.print(f"  {what} {n['served_on']}：{escape(n['reasons'])}", highlight=False)


@app.command("history")
def history_command(
    subject: Annotated[str, typer.Argument(help="主体的统一社会信用代码、身份证号或主体编号")],
    at: Annotated[str | None, typer.Option("--at", help="在列状态的日期（默认今天）")] = None,
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """一个主体的名单事件，以及某日在列的名单。"""
    principal = _principal(dept, as_json)
    with transaction(as_json=as_json, rollback=True) as conn:
        found = desk.subject_history(
            conn, principal, _subject_id(conn, subject), _date(at) if at else None
        )
    if as_json:
        _json(found)
        return
    for ev in found["events"]:
        out.print(
            f"{ev['on_date']} 条目 {ev['record_id']} {ev['dataset']} {ev['label']}", highlight=False
        )
    on = "、".join(f"{s['dataset']}（条目 {s['record_id']}）" for s in found["on_lists"])
    out.print(f"{found['at']} 在列：{on or '无'}", highlight=False)


def _line(e: dict[str, Any]) -> str:
    kind = e["list_kind_name"] or e["dataset_name"]
    until = e["valid_until"] or "长期"
    return (
        f"{e['record_id']} {escape(e['subject_name'] or '')} {escape(kind)} "
        f"列入 {e['listed_on']} 至 {until} {e['status_label']}"
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(XinyongError("DATE_INVALID", f"日期“{value}”应为 YYYY-MM-DD"))
