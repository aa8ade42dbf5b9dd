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
from xinyong.catalog.loader import Catalog
from xinyong.checks.facts import _may_check
from xinyong.checks.models import check_hits, check_measures, checks
from xinyong.departments import service as departments
from xinyong.errors import NotAllowed, NotFound
from xinyong.measures.catalog import Measures
from xinyong.subjects.models import subjects


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


def check_view(
    conn: Connection, catalog: Catalog, measures: Measures, check: dict[str, Any]
) -> dict[str, Any]:
    """A stored check (``get_check``) as a clerk reads it: the subject named; each hit with
    its dataset and list kind by name, the designating department, its dates and the measures
    it triggered; each measure with the entries behind it. Checks stored before the reasons
    were kept (migration 0024) name no measure per hit."""
    ids = {check["subject_id"]} | {h["subject_id"] for h in check["hits"]}
    ids.discard(None)
    named = {
        r.id: r
        for r in conn.execute(
            select(subjects.c.id, subjects.c.name, subjects.c.uscc, subjects.c.id_number).where(
                subjects.c.id.in_(ids)
            )
        )
    }
    dept_names = departments.names(conn)

    def subject(sid: int | None) -> dict[str, Any] | None:
        row = named.get(sid) if sid is not None else None
        if row is None:
            return None
        # checkers are government roles: codes are shown whole (disclosure rules)
        return {"id": row.id, "name": row.name, "code": row.uscc or row.id_number or ""}

    triggered: dict[int, list[str]] = {}
    shown_measures = []
    for m in check["measures"]:
        info = measures.measures.get(m["measure_id"])
        title = info.content if info else m["measure_id"]
        for record_id in m.get("because_of") or ():
            triggered.setdefault(record_id, []).append(title)
        shown_measures.append({**m, "title": title, "because_of": m.get("because_of") or []})
    hits = []
    for h in check["hits"]:
        ds = catalog.datasets.get(h["dataset"])
        kind = catalog.lists.kinds.get(h["list_kind"]) if h.get("list_kind") else None
        via = h.get("via")
        hits.append(
            {
                **h,
                "subject": subject(h["subject_id"]),
                "dataset_name": ds.name if ds else h["dataset"],
                "list_kind_name": kind.name if kind else None,
                "list_class": kind.list_class.value if kind else None,
                "dept_name": dept_names.get(h["dept_uscc"], h["dept_uscc"]),
                "responsible_for": (
                    {"role": via[0], "organisation": via[1], "code": via[2]} if via else None
                ),
                "measures": triggered.get(h["record_id"], []),
            }
        )
    labels = {h["record_id"]: h["list_kind_name"] or h["dataset_name"] for h in hits}
    for m in shown_measures:
        m["because_labels"] = [labels.get(r, f"记录 {r}") for r in m["because_of"]]
    return {
        **check,
        "subject": subject(check["subject_id"]),
        "hits": hits,
        "measures": shown_measures,
        # whether the check kept which entry triggered which measure (single checks since 0024,
        # bulk checks since they store it too)
        "measures_recorded": any(m.get("because_of") is not None for m in check["measures"])
        or not check["measures"],
    }


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
