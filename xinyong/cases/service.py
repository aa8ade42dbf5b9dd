"""Cases (办件) for staff: filing, the department queues, assignment, notes, requests for
material, pausing and resuming the clock, and closing with an outcome and a reason.

Kind-specific work (what an objection does to its record, what repair grants) lives beside this
in its own module and calls ``open_case`` and ``close_case`` here after its own checks. Every
change is one row of ``case_events`` (who, when, why, from which state to which), one audit
event and inbox messages to the subject and the department (``notifications.inbox``).

Deadlines are counted on the working-day calendar (``xinyong.workdays``): the deadline is
``received_on`` plus ``deadline_days`` plus the working days the case spent paused; one counted
through a year the calendar does not know is stored and shown as provisional (暂定).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, select, update

from xinyong import clock
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.cases import states
from xinyong.cases.kinds import KINDS, PAUSE_CAUSES, kind_of
from xinyong.cases.models import case_events, cases
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.notifications import inbox
from xinyong.workdays.calendar import WorkCalendar

CASE_NO = re.compile(r"^(YY|XF|JB|PJ)\d{8}-\d{4,6}$")
REASON_MAX_CHARS = 2000
# a case whose deadline is this many working days away or fewer is "nearly due" in the queues
NEARLY_DUE_DAYS = 1
# how a complaint's reporter appears in its history and ``filed_by``: the person is in the
# case's ``reporter`` column, which only the handling staff read
REPORTER = "举报人"


@dataclass(frozen=True)
class Case:
    id: int
    case_no: str
    kind: str
    state: str
    subject_id: int | None
    record_id: int | None
    target: str | None
    dept_uscc: str | None
    route: str
    assignee: str | None
    channel: str
    reason: str
    detail: dict[str, Any] | None
    filed_by: str
    filed_role: str
    received_on: date
    deadline_days: int
    paused_days: int
    deadline: date
    deadline_provisional: bool
    dept_notified_on: date | None
    dept_deadline: date | None
    dept_deadline_provisional: bool
    paused_on: date | None
    pause_cause: str | None
    outcome: str | None
    outcome_reason: str | None
    closed_at: datetime | None
    closed_by: str | None
    closed_on_time: bool | None
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state in states.OPEN_STATES

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label

    @property
    def state_label(self) -> str:
        return states.LABELS.get(self.state, self.state)

    @property
    def outcome_label(self) -> str:
        return KINDS[self.kind].outcome_label(self.outcome)

    def deadline_label(self) -> str:
        label = self.deadline.isoformat()
        return f"{label}（暂定）" if self.deadline_provisional else label

    def urgency(self, today: date, calendar: WorkCalendar) -> str:
        """overdue (已超期) / due (临期) / paused / ok / closed, for the queues."""
        if not self.is_open:
            return "closed"
        if self.state == states.PAUSED:
            return "paused"
        if self.deadline < today:
            return "overdue"
        if calendar.working_days_between(today, self.deadline) <= NEARLY_DUE_DAYS:
            return "due"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        """The case as the API and ``--json`` give it (never the reporter of a complaint)."""
        return {
            "case_no": self.case_no,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "state": self.state,
            "state_label": self.state_label,
            "subject_id": self.subject_id,
            "record_id": self.record_id,
            "target": self.target,
            "dept_uscc": self.dept_uscc,
            "route": self.route,
            "assignee": self.assignee,
            "channel": self.channel,
            "reason": self.reason,
            "received_on": self.received_on.isoformat(),
            "deadline": self.deadline.isoformat(),
            "deadline_provisional": self.deadline_provisional,
            "deadline_working_days": self.deadline_days,
            "paused_working_days": self.paused_days,
            "dept_deadline": self.dept_deadline.isoformat() if self.dept_deadline else None,
            "dept_deadline_provisional": self.dept_deadline_provisional,
            "paused_on": self.paused_on.isoformat() if self.paused_on else None,
            "pause_cause": self.pause_cause,
            "outcome": self.outcome,
            "outcome_label": self.outcome_label if self.outcome else None,
            "outcome_reason": self.outcome_reason,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "closed_on_time": self.closed_on_time,
        }


_FIELDS = [cases.c[name] for name in Case.__dataclass_fields__]


def _case(row: Any) -> Case:
    m = dict(row._mapping)
    m["closed_at"] = clock.aware(m["closed_at"])
    m["created_at"] = clock.aware(m["created_at"])
    return Case(**m)


# -- reading -----------------------------------------------------------------------------------


def get_case(conn: Connection, case_no: str) -> Case:
    """The case of this number; a malformed or unknown number is refused the same way, so a
    guessed number tells nothing."""
    if not CASE_NO.match(case_no or ""):
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no[:40]}”的办件")
    row = conn.execute(select(*_FIELDS).where(cases.c.case_no == case_no)).first()
    if row is None:
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的办件")
    return _case(row)


def may_handle(principal: Principal, case_: Case) -> bool:
    """Operators handle every queue; a department's clerks and system its own; the platform's
    queue (no department) is the operators'."""
    if principal.role is Role.OPERATOR:
        return True
    return (
        principal.role in DEPARTMENT_ROLES
        and case_.dept_uscc is not None
        and principal.dept_uscc == case_.dept_uscc
    )


def may_view(principal: Principal, case_: Case) -> bool:
    if may_handle(principal, case_) or principal.role is Role.AUDITOR:
        return True
    return (
        principal.role is Role.SUBJECT
        and principal.subject_id is not None
        and principal.subject_id == case_.subject_id
        and case_.kind != "complaint"
    )


def case_for(conn: Connection, principal: Principal, case_no: str) -> Case:
    """The case, for someone who may see it; to anyone else it does not exist."""
    found = get_case(conn, case_no)
    if not may_view(principal, found):
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的办件")
    return found


def _handled(conn: Connection, principal: Principal, case_no: str) -> Case:
    found = get_case(conn, case_no)
    if not may_handle(principal, found):
        if may_view(principal, found):
            raise NotAllowed("CASE_NOT_OWNER", f"办件 {case_no} 不由本部门办理，无权处理")
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的办件")
    return found


def ensure_open(found: Case) -> None:
    """``CASE_CLOSED`` when the case is closed: nothing changes a closed case."""
    _open(found)


def _open(found: Case) -> None:
    if not found.is_open:
        raise Conflict(
            "CASE_CLOSED",
            f"办件 {found.case_no} 已于 {clock.beijing(found.closed_at)[:10]} 办结"
            f"（{found.outcome_label}），不能再变更",
        )


def history(conn: Connection, case_id: int, *, internal: bool) -> list[dict[str, Any]]:
    """The case's events, oldest first; staff notes only when ``internal``."""
    q = select(case_events).where(case_events.c.case_id == case_id)
    if not internal:
        q = q.where(case_events.c.internal.is_(False))
    return [
        {**r._mapping, "at": clock.aware(r.at)}
        for r in conn.execute(q.order_by(case_events.c.id)).all()
    ]


def list_cases(
    conn: Connection,
    principal: Principal,
    *,
    dept_uscc: str | None = None,
    platform: bool = False,
    kind: str | None = None,
    open_only: bool = True,
    limit: int = 200,
) -> list[Case]:
    """A queue: the department's cases (a clerk sees only its own), the platform's
    (``platform``), or, for an operator or auditor without either, every queue. Subjects get
    their own cases. Overdue first, then by deadline; paused cases after the running ones."""
    q = select(*_FIELDS)
    if principal.role is Role.SUBJECT:
        if principal.subject_id is None:
            return []
        q = q.where(cases.c.subject_id == principal.subject_id, cases.c.kind != "complaint")
    elif principal.role in DEPARTMENT_ROLES:
        if dept_uscc not in (None, principal.dept_uscc) or platform:
            raise NotAllowed("CASE_QUEUE_NOT_ALLOWED", "只能查看本部门的办件")
        q = q.where(cases.c.dept_uscc == principal.dept_uscc)
    elif principal.role in (Role.OPERATOR, Role.AUDITOR):
        if platform:
            q = q.where(cases.c.dept_uscc.is_(None))
        elif dept_uscc:
            q = q.where(cases.c.dept_uscc == dept_uscc)
    else:
        raise NotAllowed("CASE_QUEUE_NOT_ALLOWED", "无权查看办件")
    if kind:
        q = q.where(cases.c.kind == kind_of(kind).code)
    if open_only:
        q = q.where(cases.c.state.in_(states.OPEN_STATES))
    q = q.order_by(
        case((cases.c.state == states.CLOSED, 2), (cases.c.state == states.PAUSED, 1), else_=0),
        cases.c.deadline,
        cases.c.id,
    ).limit(limit)
    return [_case(r) for r in conn.execute(q).all()]


# -- changing ----------------------------------------------------------------------------------


def _reason(text: str | None, what: str = "理由") -> str:
    value = (text or "").strip()
    if not value:
        raise XinyongError("CASE_REASON_REQUIRED", f"请填写{what}")
    if len(value) > REASON_MAX_CHARS:
        raise XinyongError("CASE_REASON_TOO_LONG", f"{what}最多 {REASON_MAX_CHARS} 字")
    return value


def _next_no(conn: Connection, prefix: str, on: date) -> str:
    stem = f"{prefix}{on:%Y%m%d}-"
    last = conn.scalar(select(func.max(cases.c.case_no)).where(cases.c.case_no.like(stem + "%")))
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{n:04d}"


def follow_code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def open_case(
    conn: Connection,
    principal: Principal,
    calendar: WorkCalendar,
    *,
    kind: str,
    reason: str,
    deadline_days: int,
    subject_id: int | None = None,
    record_id: int | None = None,
    target: str | None = None,
    dept_uscc: str | None = None,
    route: str = "department",
    channel: str = "online",
    dept_deadline_days: int | None = None,
    detail: dict[str, Any] | None = None,
    reporter: dict[str, Any] | None = None,
    filer: str | None = None,
) -> tuple[Case, str]:
    """Receive a case (受理) today; returns it and the follow code (查询码) given once to the
    filer. The caller (the kind's module) has checked who may file what. ``filer`` names the
    filer in the case and its history instead of the principal (a complaint's 举报人); the
    audit log keeps the principal."""
    k = kind_of(kind)
    text = _reason(reason, "事由")
    now = clock.now(conn)
    today = clock.today(conn)
    due = calendar.add_working_days(today, deadline_days)
    dept_due = (
        calendar.add_working_days(today, dept_deadline_days)
        if dept_deadline_days is not None and dept_uscc is not None
        else None
    )
    code = secrets.token_hex(4).upper()
    case_no = _next_no(conn, k.prefix, today)
    case_id = conn.execute(
        insert(cases)
        .values(
            case_no=case_no,
            kind=k.code,
            state=states.RECEIVED,
            subject_id=subject_id,
            record_id=record_id,
            target=target,
            dept_uscc=dept_uscc,
            route=route,
            channel=channel,
            reason=text,
            detail=detail,
            reporter=reporter,
            filed_by=filer or principal.name,
            filed_role=principal.role.value,
            received_on=today,
            deadline_days=deadline_days,
            paused_days=0,
            deadline=due.day,
            deadline_provisional=due.provisional,
            dept_notified_on=today if dept_due else None,
            dept_deadline_days=dept_deadline_days if dept_due else None,
            dept_deadline=dept_due.day if dept_due else None,
            dept_deadline_provisional=dept_due.provisional if dept_due else False,
            follow_code_hash=follow_code_hash(code),
            created_at=now,
            updated_at=now,
        )
        .returning(cases.c.id)
    ).scalar_one()
    found = get_case(conn, case_no)
    _event(conn, principal, found, "filed", None, states.RECEIVED, text, actor=filer)
    _audit(conn, principal, "case.filed", found, reason=text)
    inbox.case_changed(
        conn,
        found,
        f"{k.label}办件 {case_no} 已受理",
        f"已受理，办理期限至 {found.deadline_label()}。",
    )
    assert found.id == case_id
    return found, code


def record_event(
    conn: Connection,
    principal: Principal,
    found: Case,
    kind: str,
    reason: str | None,
    *,
    detail: dict[str, Any] | None = None,
) -> int:
    """A case event that does not change the state (the other modules of the package)."""
    return _event(conn, principal, found, kind, found.state, found.state, reason, detail=detail)


def audit_case(
    conn: Connection, principal: Principal, action: str, found: Case, **detail: Any
) -> None:
    """An audit event about the case (the other modules of the package)."""
    _audit(conn, principal, action, found, **detail)


def _event(
    conn: Connection,
    principal: Principal,
    found: Case,
    kind: str,
    from_state: str | None,
    to_state: str | None,
    reason: str | None,
    *,
    internal: bool = False,
    detail: dict[str, Any] | None = None,
    actor: str | None = None,
) -> int:
    return int(
        conn.execute(
            insert(case_events)
            .values(
                case_id=found.id,
                kind=kind,
                from_state=from_state,
                to_state=to_state,
                actor=actor or principal.name,
                role=principal.role.value,
                reason=reason,
                detail=detail,
                internal=internal,
                at=clock.now(conn),
            )
            .returning(case_events.c.id)
        ).scalar_one()
    )


def _audit(
    conn: Connection,
    principal: Principal,
    action: str,
    found: Case,
    *,
    reason: str | None = None,
    **detail: Any,
) -> None:
    audit.append_for(
        conn,
        principal,
        action=action,
        subject_id=found.subject_id,
        record_id=found.record_id,
        purpose=reason,
        detail={"case_no": found.case_no, "kind": found.kind, **detail},
    )


def refuse(conn: Connection, principal: Principal, case_no: str, error: XinyongError) -> None:
    """Record a refused action on a case in the audit log (in the caller's transaction, after
    its rollback; the web and the command line call ``audit.append_independently``)."""
    audit.append_for(
        conn,
        principal,
        action="case.refused",
        outcome="denied",
        detail={"case_no": case_no[:40], "code": error.code},
        purpose=error.message,
    )


def _update(conn: Connection, found: Case, **values: Any) -> Case:
    conn.execute(
        update(cases).where(cases.c.id == found.id).values(**values, updated_at=clock.now(conn))
    )
    return get_case(conn, found.case_no)


def start(conn: Connection, principal: Principal, case_no: str, reason: str = "开始办理") -> Case:
    """received -> handling (a clerk takes it up)."""
    found = _handled(conn, principal, case_no)
    _open(found)
    if found.state != states.RECEIVED:
        return found
    after = _update(conn, found, state=states.HANDLING)
    _event(conn, principal, after, "started", found.state, after.state, reason)
    _audit(conn, principal, "case.started", after, reason=reason)
    return after


def assign(
    conn: Connection, principal: Principal, case_no: str, assignee: str, reason: str | None = None
) -> Case:
    """Give the case to a person (a clerk of its department; an operator may reassign any)."""
    found = _handled(conn, principal, case_no)
    _open(found)
    who = (assignee or "").strip()
    if not who:
        raise XinyongError("CASE_ASSIGNEE_REQUIRED", "请填写承办人")
    to_state = states.HANDLING if found.state == states.RECEIVED else found.state
    after = _update(conn, found, assignee=who, state=to_state)
    _event(
        conn,
        principal,
        after,
        "assigned",
        found.state,
        to_state,
        reason,
        detail={"from": found.assignee, "to": who},
    )
    _audit(conn, principal, "case.assigned", after, reason=reason, assignee=who)
    return after


def transfer(
    conn: Connection,
    principal: Principal,
    calendar: WorkCalendar,
    case_no: str,
    dept_uscc: str | None,
    reason: str,
    *,
    dept_deadline_days: int | None = None,
) -> Case:
    """Move the case to another queue (operators only): a department's, or the platform's
    (None). With ``dept_deadline_days`` the department's own time starts today."""
    found = get_case(conn, case_no)
    if principal.role is not Role.OPERATOR:
        raise NotAllowed("CASE_TRANSFER_NOT_ALLOWED", "只有平台管理员可以改派办件")
    _open(found)
    text = _reason(reason, "改派理由")
    values: dict[str, Any] = {
        "dept_uscc": dept_uscc,
        "route": "department" if dept_uscc else "platform",
        "assignee": None,
    }
    if dept_uscc and dept_deadline_days is not None:
        today = clock.today(conn)
        due = calendar.add_working_days(today, dept_deadline_days)
        values |= {
            "dept_notified_on": today,
            "dept_deadline_days": dept_deadline_days,
            "dept_deadline": due.day,
            "dept_deadline_provisional": due.provisional,
        }
    after = _update(conn, found, **values)
    _event(
        conn,
        principal,
        after,
        "transferred",
        found.state,
        after.state,
        text,
        detail={"from": found.dept_uscc, "to": dept_uscc},
    )
    _audit(conn, principal, "case.transferred", after, reason=text, to=dept_uscc)
    inbox.case_changed(conn, after, f"办件 {case_no} 转由新的部门办理", text)
    return after


def set_deadline_days(
    conn: Connection, principal: Principal, calendar: WorkCalendar, found: Case, days: int
) -> Case:
    """Count the deadline again with ``days`` working days from receipt (a kind's routing
    changed, e.g. an objection that turns out to need the department's verification)."""
    due = calendar.add_working_days(found.received_on, days + found.paused_days)
    return _update(
        conn, found, deadline_days=days, deadline=due.day, deadline_provisional=due.provisional
    )


def add_note(
    conn: Connection, principal: Principal, case_no: str, text: str, *, internal: bool = True
) -> Case:
    """A note on the case: internal between staff by default; a note to the subject otherwise."""
    found = _handled(conn, principal, case_no)
    _open(found)
    note = _reason(text, "备注")
    _event(conn, principal, found, "note", found.state, found.state, note, internal=internal)
    _audit(conn, principal, "case.note", found, internal=internal)
    if not internal:
        inbox.case_changed(conn, found, f"办件 {case_no} 有新的答复", note)
    return found


def pause(
    conn: Connection,
    principal: Principal,
    calendar: WorkCalendar,
    case_no: str,
    *,
    cause: str,
    reason: str,
) -> Case:
    """Stop the clock (中止计时) for ``cause`` (inspection / material); the working days until
    it resumes are added to the deadline. A cause the kind does not pause for is refused."""
    found = _handled(conn, principal, case_no)
    _open(found)
    text = _reason(reason, "中止计时的理由")
    if cause not in PAUSE_CAUSES:
        raise XinyongError(
            "CASE_PAUSE_CAUSE", f"中止计时的原因须为：{'、'.join(PAUSE_CAUSES.values())}"
        )
    if cause not in KINDS[found.kind].pausing:
        raise XinyongError(
            "CASE_PAUSE_NOT_COUNTED",
            f"{found.kind_label}办件的期限不因“{PAUSE_CAUSES[cause]}”中止",
        )
    if found.state == states.PAUSED:
        raise Conflict("CASE_ALREADY_PAUSED", f"办件 {case_no} 已于 {found.paused_on} 中止计时")
    after = _update(
        conn,
        found,
        state=states.PAUSED,
        paused_on=clock.today(conn),
        pause_cause=cause,
        state_before_pause=found.state,
    )
    _event(
        conn, principal, after, "paused", found.state, states.PAUSED, text, detail={"cause": cause}
    )
    _audit(conn, principal, "case.paused", after, reason=text, cause=cause)
    inbox.case_changed(
        conn, after, f"办件 {case_no} 中止计时", f"因{PAUSE_CAUSES[cause]}中止计时：{text}"
    )
    return after


def resume(
    conn: Connection, principal: Principal, calendar: WorkCalendar, case_no: str, reason: str
) -> Case:
    """Start the clock again: the deadline moves by the working days the pause lasted."""
    found = _handled(conn, principal, case_no)
    return resume_case(conn, principal, calendar, found, reason)


def resume_case(
    conn: Connection, principal: Principal, calendar: WorkCalendar, found: Case, reason: str
) -> Case:
    """``resume`` of a case the caller has checked ``principal`` may resume: staff through
    ``resume``, the filer's supplementary material (``cases.material``) when the clock stopped
    for it."""
    case_no = found.case_no
    _open(found)
    text = _reason(reason, "恢复计时的理由")
    if found.state != states.PAUSED or found.paused_on is None:
        raise Conflict("CASE_NOT_PAUSED", f"办件 {case_no} 未中止计时")
    today = clock.today(conn)
    lost = calendar.working_days_between(found.paused_on, today)
    paused_days = found.paused_days + lost
    due = calendar.add_working_days(found.received_on, found.deadline_days + paused_days)
    before = conn.scalar(select(cases.c.state_before_pause).where(cases.c.id == found.id))
    values: dict[str, Any] = {
        "state": before or states.HANDLING,
        "paused_on": None,
        "pause_cause": None,
        "state_before_pause": None,
        "paused_days": paused_days,
        "deadline": due.day,
        "deadline_provisional": due.provisional,
    }
    if found.dept_deadline is not None:
        dept_due = calendar.add_working_days(found.dept_deadline, lost)
        values |= {
            "dept_deadline": dept_due.day,
            "dept_deadline_provisional": found.dept_deadline_provisional or dept_due.provisional,
        }
    after = _update(conn, found, **values)
    _event(
        conn,
        principal,
        after,
        "resumed",
        states.PAUSED,
        after.state,
        text,
        detail={"paused_working_days": lost, "deadline": due.day.isoformat()},
    )
    _audit(conn, principal, "case.resumed", after, reason=text, paused_working_days=lost)
    inbox.case_changed(
        conn,
        after,
        f"办件 {case_no} 恢复计时",
        f"{text}；办理期限顺延至 {after.deadline_label()}。",
    )
    return after


def request_material(
    conn: Connection, principal: Principal, calendar: WorkCalendar, case_no: str, what: str
) -> Case:
    """Ask the filer for more material (补正材料). The clock stops where the kind's rules say
    it does; otherwise the request is recorded and the clock runs on."""
    found = _handled(conn, principal, case_no)
    _open(found)
    text = _reason(what, "需补正的材料")
    if found.state != states.PAUSED and "material" in KINDS[found.kind].pausing:
        found = pause(conn, principal, calendar, case_no, cause="material", reason=text)
    _event(conn, principal, found, "material_requested", found.state, found.state, text)
    _audit(conn, principal, "case.material_requested", found, reason=text)
    inbox.case_changed(conn, found, f"办件 {case_no} 需要补正材料", text)
    return found


def close_case(
    conn: Connection,
    principal: Principal,
    found: Case,
    *,
    outcome: str,
    reason: str,
    detail: dict[str, Any] | None = None,
) -> Case:
    """Close with an outcome of the kind and a reason. The caller checked who may decide."""
    _open(found)
    k = KINDS[found.kind]
    if outcome not in k.outcomes:
        raise XinyongError(
            "CASE_OUTCOME_UNKNOWN",
            f"{k.label}办件的办理结果须为：{'、'.join(k.outcomes.values())}",
        )
    text = _reason(reason, "办理结果的理由")
    today = clock.today(conn)
    on_time = today <= found.deadline
    after = _update(
        conn,
        found,
        state=states.CLOSED,
        outcome=outcome,
        outcome_reason=text,
        closed_at=clock.now(conn),
        closed_by=principal.name,
        closed_on_time=on_time,
        paused_on=None,
        pause_cause=None,
    )
    _event(
        conn,
        principal,
        after,
        "decided",
        found.state,
        states.CLOSED,
        text,
        detail={"outcome": outcome, **(detail or {})},
    )
    _audit(conn, principal, "case.closed", after, reason=text, outcome=outcome)
    inbox.case_changed(
        conn,
        after,
        f"{k.label}办件 {found.case_no} 已办结：{k.outcome_label(outcome)}",
        text,
    )
    return after


def open_case_of_record(conn: Connection, record_id: int, kind: str) -> Case | None:
    """The open case of ``kind`` about a record, if any (one at a time)."""
    row = conn.execute(
        select(*_FIELDS).where(
            and_(
                cases.c.record_id == record_id,
                cases.c.kind == kind,
                cases.c.state.in_(states.OPEN_STATES),
            )
        )
    ).first()
    return _case(row) if row else None


def follow(conn: Connection, case_no: str, code: str) -> Case:
    """A case followed by its number and follow code, without logging in (issue 12, item 5).
    A malformed number, an unknown one and a wrong code get one and the same answer, so that
    neither numbers nor codes can be told apart by guessing (no oracle)."""
    not_found = NotFound("CASE_NOT_FOUND", "办件编号或查询码不正确，请核对后重新输入")
    try:
        found = get_case(conn, (case_no or "").strip().upper())
    except NotFound:
        raise not_found from None
    stored = conn.scalar(select(cases.c.follow_code_hash).where(cases.c.id == found.id))
    if not stored or not secrets.compare_digest(stored, follow_code_hash(code or "")):
        raise not_found
    return found
