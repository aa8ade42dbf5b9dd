"""What ``/me`` shows of the subject's cases and inbox: its cases, the records under an open
objection (no second objection is offered on them), and its messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from xinyong.accounts.roles import Principal
from xinyong.cases import repair, service
from xinyong.catalog.loader import Catalog
from xinyong.notifications import inbox


def my_cases(
    conn: Connection,
    principal: Principal,
    subject_id: int,
    catalog: Catalog | None = None,
    record_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Also, with ``catalog`` and the shown ``record_ids``: each record's repair eligibility
    (申请信用修复, or the disabled button with its date) and the records under an open repair
    application."""
    cases = service.list_cases(conn, principal, open_only=False, limit=100)
    repairable = (
        repair.eligibilities(conn, catalog, subject_id, record_ids or [])
        if catalog is not None
        else {}
    )
    return {
        "cases": cases,
        "objected_records": {
            c.record_id for c in cases if c.kind == "objection" and c.is_open and c.record_id
        },
        "repair": repairable,
        "repair_records": {
            c.record_id for c in cases if c.kind == "repair" and c.is_open and c.record_id
        },
        "messages": inbox.messages(conn, subject_id=subject_id, dept_uscc=None, limit=20),
        "unread": inbox.unread(conn, subject_id=subject_id, dept_uscc=None),
    }
