"""Objections (异议): a subject disputes one of its records or list entries.

Henan rules carried here (河南省社会信用条例, see ``shared/reference/domain.md`` §6):

- art. 41: on receipt the record is marked 异议处理中 at once (the record state 异议中; the
  disclosure engine decides how that shows and that it stops triggering measures). What the
  platform can settle itself (an error of collection or display) is handled in 3 working days;
  what needs the source department's verification in 7 working days from receipt, of which the
  department has 3 from its notice. Time for inspection, testing or appraisal is not counted
  (``cases.service.pause``).
- art. 28: an objection to a list entry goes to the department that designated it.

Outcomes: corrected and partly corrected (the corrected row comes through the ordinary path, a
department's delivery that makes a new version of the record; the decision names that version),
upheld, withdrawn by the subject. Every outcome returns the record to 公示中.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from xinyong import clock
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.cases import files as case_files
from xinyong.cases import service
from xinyong.cases.kinds import OBJECTION
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.lists.models import list_entries, list_events
from xinyong.records import states as record_states
from xinyong.records.models import records
from xinyong.workdays.calendar import WorkCalendar

PLATFORM = "platform"
DEPARTMENT = "department"
PLATFORM_DAYS = 3  # art. 41: handled by the platform
VERIFY_DAYS = 7  # art. 41: needing the source department's verification, from receipt
DEPT_DAYS = 3  # art. 41: the department's part, from its notice
ROUTES = {PLATFORM: "平台归集或展示有误（平台核查）", DEPARTMENT: "信息内容有误（部门核实）"}


def _record(conn: Connection, record_id: int) -> Any:
    row = conn.execute(
        select(
            records.c.id,
            records.c.state,
            records.c.subject_id,
            records.c.dataset,
            records.c.dept_uscc,
            records.c.version,
        ).where(records.c.id == record_id)
    ).first()
    if row is None:
        raise NotFound("RECORD_NOT_FOUND", f"没有编号为 {record_id} 的记录")
    return row


def _mark(
    conn: Connection, principal: Principal, rec: Any, *, open: bool, reason: str, case_no: str
) -> None:
    """The record to 异议中 (or back to 公示中), its list entry's history, an audit event."""
    want = record_states.OBJECTED if open else record_states.PUBLISHED
    conn.execute(
        update(records).where(records.c.id == rec.id).values(state=want, updated_at=clock.now(conn))
    )
    listed = conn.execute(
        select(list_entries.c.valid_until).where(list_entries.c.record_id == rec.id)
    ).first()
    if listed is not None:
        conn.execute(
            list_events.insert().values(
                record_id=rec.id,
                subject_id=rec.subject_id,
                dataset=rec.dataset,
                kind="objected" if open else "objection_closed",
                on_date=clock.today(conn),
                valid_until=listed.valid_until,
                actor=principal.name,
                reason=f"{case_no}：{reason}",
                created_at=clock.now(conn),
            )
        )
    audit.append_for(
        conn,
        principal,
        action="record.objection" if open else "record.objection_closed",
        record_id=rec.id,
        subject_id=rec.subject_id,
        purpose=reason,
        detail={"case_no": case_no},
    )


def file_objection(
    conn: Connection,
    principal: Principal,
    calendar: WorkCalendar,
    record_id: int,
    *,
    reason: str,
    route: str = DEPARTMENT,
    uploads: list[case_files.Upload] | None = None,
    data_dir: Path | None = None,
) -> tuple[service.Case, str]:
    """File an objection: by the subject about its own record (online), or by a clerk or an
    operator at the window for the subject. Returns the case and its follow code."""
    if principal.role is Role.SUBJECT:
        channel = "online"
    elif principal.role in (Role.CLERK, Role.OPERATOR):
        channel = "cli" if principal.is_cli else "window"
    else:
        raise NotAllowed("OBJECTION_NOT_ALLOWED", "只有信用主体本人或窗口经办人可以提出异议")
    rec = _record(conn, record_id)
    if principal.role is Role.SUBJECT and (
        principal.subject_id is None or rec.subject_id != principal.subject_id
    ):
        raise NotAllowed("OBJECTION_NOT_OWN_RECORD", "只能对本主体的信用记录提出异议")
    if rec.subject_id is None:
        raise Conflict("RECORD_PENDING", f"记录 {record_id} 尚未关联信用主体，不能提出异议")
    if route not in ROUTES:
        raise XinyongError("OBJECTION_ROUTE", f"异议类型须为：{'、'.join(ROUTES.values())}")
    open_case = service.open_case_of_record(conn, record_id, OBJECTION)
    if open_case is not None:
        raise Conflict(
            "OBJECTION_OPEN",
            f"该记录已有办理中的异议（办件号 {open_case.case_no}），请勿重复提交",
        )
    if rec.state != record_states.PUBLISHED:
        raise Conflict("RECORD_STATE", f"记录当前状态为“{rec.state}”，不能提出异议")
    checked = case_files.check_uploads(uploads or [])
    if checked and data_dir is None:
        raise XinyongError("CASE_FILE_REFUSED", "未配置材料存放目录")
    entry = conn.execute(
        select(list_entries.c.dept_uscc).where(list_entries.c.record_id == record_id)
    ).first()
    if entry is not None:
        # art. 28: the designating department decides objections to its list entries
        route, target, dept = DEPARTMENT, "list_entry", entry.dept_uscc
    else:
        target, dept = "record", rec.dept_uscc
    on_platform = route == PLATFORM
    found, code = service.open_case(
        conn,
        principal,
        calendar,
        kind=OBJECTION,
        reason=reason,
        deadline_days=PLATFORM_DAYS if on_platform else VERIFY_DAYS,
        dept_deadline_days=None if on_platform else DEPT_DAYS,
        subject_id=rec.subject_id,
        record_id=record_id,
        target=target,
        dept_uscc=None if on_platform else dept,
        route=route,
        channel=channel,
        detail={"record_version": rec.version, "dataset": rec.dataset, "source_dept": dept},
    )
    if checked:
        assert data_dir is not None
        case_files.store(conn, data_dir, found.id, None, checked, principal.name)
    _mark(conn, principal, rec, open=True, reason=found.reason, case_no=found.case_no)
    return found, code


def to_department(
    conn: Connection, principal: Principal, calendar: WorkCalendar, case_no: str, reason: str
) -> service.Case:
    """A platform objection that turns out to need the source department's verification: the
    department is notified today (3 working days), the whole case has 7 from receipt."""
    found = service.get_case(conn, case_no)
    if found.kind != OBJECTION or found.route != PLATFORM:
        raise Conflict("OBJECTION_ROUTE", f"办件 {case_no} 不是平台核查的异议")
    dept = (found.detail or {}).get("source_dept")
    moved = service.transfer(
        conn, principal, calendar, case_no, dept, reason, dept_deadline_days=DEPT_DAYS
    )
    return service.set_deadline_days(conn, principal, calendar, moved, VERIFY_DAYS)


def decide(
    conn: Connection,
    principal: Principal,
    case_no: str,
    *,
    outcome: str,
    reason: str,
) -> service.Case:
    """The handling department (or the platform, for its own queue) decides. Corrected and
    partly corrected need the corrected version already delivered through the ordinary path."""
    found = service.get_case(conn, case_no)
    if found.kind != OBJECTION:
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的异议")
    if not service.may_handle(principal, found):
        if principal.role in DEPARTMENT_ROLES or principal.role is Role.SUBJECT:
            raise NotAllowed("CASE_NOT_OWNER", f"异议 {case_no} 不由本部门办理，无权作出决定")
        raise NotAllowed("CASE_NOT_OWNER", "无权作出异议决定")
    if not found.is_open:
        service.close_case(conn, principal, found, outcome=outcome, reason=reason)  # refuses
    if outcome == "withdrawn":
        raise XinyongError("OBJECTION_WITHDRAW_BY_SUBJECT", "撤回须由申请人提出（撤回异议）")
    assert found.record_id is not None
    rec = _record(conn, found.record_id)
    filed_version = int((found.detail or {}).get("record_version") or rec.version)
    detail: dict[str, Any] = {"record_version_filed": filed_version}
    if outcome in ("corrected", "partly_corrected"):
        if rec.version <= filed_version:
            raise Conflict(
                "OBJECTION_NOT_CORRECTED",
                "记录尚未更正：请先通过数据报送提交更正后的记录（生成新版本），再作出更正决定",
            )
        detail["record_version_corrected"] = rec.version
    closed = service.close_case(
        conn, principal, found, outcome=outcome, reason=reason, detail=detail
    )
    if rec.state == record_states.OBJECTED:
        _mark(conn, principal, rec, open=False, reason=reason, case_no=case_no)
    return closed


def withdraw(conn: Connection, principal: Principal, case_no: str, reason: str) -> service.Case:
    """The subject withdraws its objection (or a clerk records it at the window)."""
    found = service.get_case(conn, case_no)
    own = principal.role is Role.SUBJECT and principal.subject_id == found.subject_id
    if found.kind != OBJECTION or not (own or service.may_handle(principal, found)):
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的异议")
    closed = service.close_case(conn, principal, found, outcome="withdrawn", reason=reason)
    assert found.record_id is not None
    rec = _record(conn, found.record_id)
    if rec.state == record_states.OBJECTED:
        _mark(conn, principal, rec, open=False, reason=reason, case_no=case_no)
    return closed


def decision(conn: Connection, principal: Principal, case_no: str) -> dict[str, Any]:
    """What the decision document (异议处理决定书) says, for whoever may see the case."""
    found = service.case_for(conn, principal, case_no)
    if found.is_open:
        raise Conflict("CASE_OPEN", f"异议 {case_no} 尚未办结")
    rec = conn.execute(
        select(records.c.dataset, records.c.dept_uscc, records.c.version, records.c.state).where(
            records.c.id == found.record_id
        )
    ).first()
    closed_on: date | None = (
        found.closed_at.astimezone(clock.CHINA).date() if found.closed_at else None
    )
    return {
        "case": found,
        "record": dict(rec._mapping) if rec else {},
        "closed_on": closed_on,
        "route_label": ROUTES.get(found.route, found.route),
    }
