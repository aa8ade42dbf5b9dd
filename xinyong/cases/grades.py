"""Objections to an evaluation result (评价异议): a subject that disagrees with its grade (PIPL
art. 24: an automated decision must be contestable) files a case naming the model; the credit
office (the platform's queue) reviews the grade's explanation and either has the subject scored
again today (重新评价: a subject re-run amending the model's current run, so that its pages,
the API and every check read the new grade) or keeps it (维持评价结果), with a reason either
way. Objections to the records behind a grade go through ordinary objections (``objections``).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from xinyong.accounts.roles import Principal, Role
from xinyong.cases import service, states
from xinyong.cases.kinds import GRADE
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import rerun_subject, result_of
from xinyong.workdays.calendar import WorkCalendar

PLATFORM = "platform"
DAYS = 7  # working days, as an objection needing verification (Henan art. 41) [I]


def file_grade_objection(
    conn: Connection,
    principal: Principal,
    calendar: WorkCalendar,
    catalog: Catalog,
    *,
    model: str,
    subject_id: int,
    reason: str,
) -> tuple[service.Case, str]:
    """The subject itself (or the credit office for it, at the window) objects to its current
    grade in ``model``; one open objection per subject and model."""
    own = principal.role is Role.SUBJECT and principal.subject_id == subject_id
    if not (own or principal.role is Role.OPERATOR):
        raise NotAllowed("GRADE_OBJECTION_NOT_OWN", "只能对本主体的评价结果提出异议")
    found = model_book(catalog).get(model)
    result = result_of(conn, found.code, subject_id)
    pending = conn.execute(
        select(cases.c.case_no, cases.c.detail).where(
            cases.c.kind == GRADE,
            cases.c.subject_id == subject_id,
            cases.c.state != states.CLOSED,
        )
    )
    for case_no, detail in pending:
        if (detail or {}).get("model") == found.code:
            raise XinyongError("GRADE_OBJECTION_OPEN", f"该评价结果已有未办结的异议 {case_no}")
    return service.open_case(
        conn,
        principal,
        calendar,
        kind=GRADE,
        reason=reason,
        deadline_days=DAYS,
        subject_id=subject_id,
        target="subject",
        route=PLATFORM,
        channel="online" if own else "window",
        detail={
            "model": found.code,
            "model_name": found.name,
            "run": result.run.id,
            "grade": result.grade,
            "class": result.klass,
            "score": result.score,
        },
    )


def decide(
    conn: Connection,
    principal: Principal,
    catalog: Catalog,
    case_no: str,
    *,
    outcome: str,
    reason: str,
) -> service.Case:
    """The credit office decides: ``rerun`` scores the subject again today and records the new
    grade in the case; ``upheld`` keeps it."""
    found = service.get_case(conn, case_no)
    if found.kind != GRADE:
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的评价异议")
    if not service.may_handle(principal, found):
        raise NotAllowed("CASE_NOT_OWNER", "评价异议由信用办（平台管理员）办理")
    if outcome == "withdrawn":
        raise XinyongError("OBJECTION_WITHDRAW_BY_SUBJECT", "撤回须由申请人提出")
    detail = dict(found.detail or {})
    if found.is_open and outcome == "rerun" and found.subject_id is not None:
        model = model_book(catalog).get(str(detail["model"]))
        run = rerun_subject(conn, catalog, model, found.subject_id, actor=principal.name)
        again = result_of(conn, model.code, found.subject_id, run_id=run.id)
        detail = {"rerun": run.id, "grade_then": again.grade, "class_then": again.klass}
    return service.close_case(conn, principal, found, outcome=outcome, reason=reason, detail=detail)
