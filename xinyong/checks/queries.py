"""Reading checks back: one check with its hits and measures, and a department's list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    select,
)

from xinyong.accounts.policy import require_may_act_on
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.checks.facts import _may_check
from xinyong.checks.models import check_hits, check_measures, checks
from xinyong.errors import NotAllowed, NotFound


def get_check(conn: Connection, principal: Principal, check_id: int) -> dict[str, Any]:
    """A stored check with its hits and measures; another department's check is not found."""
    if not principal.is_government:
        raise NotAllowed("CHECK_NOT_ALLOWED", "核查记录仅供政府部门查看")
    row = conn.execute(select(checks).where(checks.c.id == check_id)).first()
    if row is None:
        raise NotFound("CHECK_NOT_FOUND", missing_check(check_id))
    require_may_act_on(
        principal,
        row.dept_uscc,
        what="check",
        reading=True,
        hide=True,
        message=missing_check(check_id),
    )
    # a check's hits name subjects and their records: reading one is an audited read
    audit.append_for(
        conn,
        principal,
        "check.read",
        subject_id=row.subject_id,
        detail={"check_id": check_id, "check_dept": row.dept_uscc},
    )
    out = dict(row._mapping)
    out["hits"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(check_hits).where(check_hits.c.check_id == check_id).order_by(check_hits.c.id)
        )
    ]
    out["measures"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(check_measures)
            .where(check_measures.c.check_id == check_id)
            .order_by(check_measures.c.id)
        )
    ]
    return out


def missing_check(check_id: int) -> str:
    """What a missing check and another department's check are both answered with."""
    return f"没有编号为 {check_id} 的核查"


def list_checks(conn: Connection, principal: Principal, *, limit: int = 50) -> list[dict[str, Any]]:
    """The principal's department's checks, newest first (all of them for the operator)."""
    _may_check(principal) if principal.role is not Role.AUDITOR else None
    q = select(checks).order_by(checks.c.id.desc()).limit(limit)
    if principal.role in DEPARTMENT_ROLES:
        q = q.where(checks.c.dept_uscc == principal.dept_uscc)
    return [dict(r._mapping) for r in conn.execute(q)]
