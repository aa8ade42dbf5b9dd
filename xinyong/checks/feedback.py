"""Feedback (触发反馈) on the measures a check returned: applied or not applied, with a reason
code from the measures list, the action date and the department's case reference; the
deadline and the overdue checks; the hit → action rate per department and per measure.

All items of one feedback call are checked before any is written, and each measure takes
exactly one feedback (the update only touches rows without one): nothing is half-recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from xinyong import clock
from xinyong.accounts.policy import require_may_act_on
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.checks.models import check_measures, checks
from xinyong.checks.queries import missing_check
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.measures.catalog import Measures

APPLIED = "applied"
NOT_APPLIED = "not_applied"


@dataclass(frozen=True)
class FeedbackItem:
    measure_id: str
    applied: bool
    reason_code: str | None
    action_date: date
    case_ref: str | None = None
    subject_id: int | None = None  # needed for a bulk check (one measure per subject)


def give_feedback(
    conn: Connection,
    measures: Measures,
    principal: Principal,
    check_id: int,
    items: list[FeedbackItem],
) -> list[dict[str, Any]]:
    """Record feedback on measures of ``check_id``; returns the updated measure rows."""
    if principal.role not in DEPARTMENT_ROLES and principal.role is not Role.OPERATOR:
        raise NotAllowed("FEEDBACK_NOT_ALLOWED", "只有核查部门可以反馈")
    row = conn.execute(select(checks).where(checks.c.id == check_id)).first()
    if row is None:
        raise NotFound("CHECK_NOT_FOUND", missing_check(check_id))
    # another department's check is reported exactly like a missing one
    require_may_act_on(
        principal, row.dept_uscc, what="check", hide=True, message=missing_check(check_id)
    )
    if not items:
        raise XinyongError("FEEDBACK_EMPTY", "反馈内容为空")
    stored = {
        (r.subject_id, r.measure_id): r
        for r in conn.execute(select(check_measures).where(check_measures.c.check_id == check_id))
    }
    targets: list[tuple[Any, FeedbackItem]] = []
    seen: set[int] = set()
    for item in items:
        matches = [
            r
            for (sid, mid), r in stored.items()
            if mid == item.measure_id.strip().upper()
            and (item.subject_id is None or sid == item.subject_id)
        ]
        if len(matches) != 1:
            raise XinyongError(
                "FEEDBACK_MEASURE_UNKNOWN" if not matches else "FEEDBACK_SUBJECT_REQUIRED",
                f"核查 {check_id} 中没有措施 {item.measure_id}"
                if not matches
                else f"批量核查中措施 {item.measure_id} 涉及多个主体，请注明主体",
            )
        target = matches[0]
        if target.outcome is not None or target.id in seen:
            raise Conflict(
                "FEEDBACK_DUPLICATE", f"措施 {target.measure_id} 已于 {target.feedback_at} 反馈"
            )
        seen.add(target.id)
        outcome = APPLIED if item.applied else NOT_APPLIED
        reason = measures.reasons.get((item.reason_code or "").strip().upper())
        if item.reason_code and reason is None:
            raise XinyongError("FEEDBACK_REASON_UNKNOWN", f"没有原因代码 {item.reason_code}")
        if not item.applied and reason is None:
            raise XinyongError("FEEDBACK_REASON_REQUIRED", "未实施措施须给出原因代码")
        if reason is not None and reason.outcome != outcome:
            said = "已实施" if item.applied else "未实施"
            raise XinyongError(
                "FEEDBACK_REASON_MISMATCH",
                f"原因代码 {reason.code}（{reason.label}）不适用于“{said}”",
            )
        if item.action_date < row.checked_on:
            raise XinyongError("FEEDBACK_DATE", "实施日期不能早于核查日期")
        targets.append((target, item))
    now = clock.now(conn)
    for target, item in targets:
        done = conn.execute(
            update(check_measures)
            .where(check_measures.c.id == target.id, check_measures.c.outcome.is_(None))
            .values(
                outcome=APPLIED if item.applied else NOT_APPLIED,
                reason_code=(item.reason_code or "").strip().upper() or None,
                action_date=item.action_date,
                case_ref=item.case_ref,
                feedback_at=now,
                feedback_by=principal.name,
            )
        )
        if done.rowcount != 1:  # a concurrent feedback won; the caller's transaction rolls back
            raise Conflict("FEEDBACK_DUPLICATE", f"措施 {target.measure_id} 已反馈")
    audit.append_for(
        conn,
        principal,
        action="check.feedback",
        dept_uscc=row.dept_uscc,
        subject_id=row.subject_id,
        detail={
            "check_id": check_id,
            "measures": [
                {"measure": t.measure_id, "applied": i.applied, "reason": i.reason_code}
                for t, i in targets
            ],
        },
    )
    ids = [t.id for t, _ in targets]
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(check_measures).where(check_measures.c.id.in_(ids)).order_by(check_measures.c.id)
        )
    ]


def overdue_checks(
    conn: Connection, dept_uscc: str | None = None, *, as_of: date
) -> list[dict[str, Any]]:
    """Checks whose feedback deadline passed before ``as_of`` with measures still unanswered."""
    missing = func.count(check_measures.c.id)
    q = (
        select(
            checks.c.id,
            checks.c.dept_uscc,
            checks.c.kind,
            checks.c.matter,
            checks.c.case_ref,
            checks.c.checked_on,
            checks.c.deadline,
            checks.c.deadline_provisional,
            missing.label("missing"),
        )
        .join(check_measures, check_measures.c.check_id == checks.c.id)
        .where(checks.c.deadline < as_of, check_measures.c.outcome.is_(None))
        .group_by(
            checks.c.id,
            checks.c.dept_uscc,
            checks.c.kind,
            checks.c.matter,
            checks.c.case_ref,
            checks.c.checked_on,
            checks.c.deadline,
            checks.c.deadline_provisional,
        )
        .order_by(checks.c.deadline, checks.c.id)
    )
    if dept_uscc is not None:
        q = q.where(checks.c.dept_uscc == dept_uscc)
    return [dict(r._mapping) for r in conn.execute(q)]


def feedback_stats(
    conn: Connection, dept_uscc: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The hit → action rate: of the measures checks returned, how many got feedback and how
    many were applied, per department and per measure."""
    answered = func.sum(case((check_measures.c.outcome.is_not(None), 1), else_=0))
    applied = func.sum(case((check_measures.c.outcome == APPLIED, 1), else_=0))
    total = func.count(check_measures.c.id)
    where = [] if dept_uscc is None else [check_measures.c.dept_uscc == dept_uscc]

    def rows(key: Any) -> list[dict[str, Any]]:
        q = (
            select(
                key.label("key"),
                total.label("returned"),
                answered.label("answered"),
                applied.label("applied"),
            )
            .where(and_(True, *where))
            .group_by(key)
            .order_by(key)
        )
        out = []
        for r in conn.execute(q):
            returned, ans, app = int(r.returned), int(r.answered or 0), int(r.applied or 0)
            out.append(
                {
                    "key": r.key,
                    "returned": returned,
                    "answered": ans,
                    "applied": app,
                    "feedback_rate": round(ans / returned, 4) if returned else 0.0,
                    "action_rate": round(app / returned, 4) if returned else 0.0,
                }
            )
        return out

    return {
        "by_department": rows(check_measures.c.dept_uscc),
        "by_measure": rows(check_measures.c.measure_id),
    }
