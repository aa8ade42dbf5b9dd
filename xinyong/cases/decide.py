"""Deciding a case whatever its kind: the one entry point the delivery layers call, so that the
command line, the pages and the API dispatch alike (objections by ``objections.decide``, credit
repair by ``repair.decide``, objections to a grade by ``grades.decide``; complaints have their
own handling)."""

from __future__ import annotations

from sqlalchemy import Connection

from xinyong.accounts.roles import Principal
from xinyong.cases import complaints, grades, objections, repair, service
from xinyong.cases.kinds import COMPLAINT, GRADE, KINDS, OBJECTION, REPAIR
from xinyong.catalog.loader import Catalog
from xinyong.errors import XinyongError
from xinyong.measures.catalog import Measures


def decide_case(
    conn: Connection,
    principal: Principal,
    catalog: Catalog,
    measures: Measures,
    case_no: str,
    *,
    outcome: str,
    reason: str,
) -> service.Case:
    found = service.case_for(conn, principal, case_no)
    if found.kind == OBJECTION:
        return objections.decide(conn, principal, case_no, outcome=outcome, reason=reason)
    if found.kind == REPAIR:
        return repair.decide(
            conn, principal, catalog, measures, case_no, outcome=outcome, reason=reason
        )
    if found.kind == GRADE:
        return grades.decide(conn, principal, catalog, case_no, outcome=outcome, reason=reason)
    if found.kind == COMPLAINT:
        return complaints.decide(conn, principal, case_no, outcome=outcome, reason=reason)
    raise XinyongError(
        "CASE_KIND_NOT_DECIDABLE", f"{KINDS[found.kind].label}办件请使用其专门的办理方式"
    )
