"""The designating department's desk (名单办理): its entries, one entry with its history and
notices, a subject's list history, an early exit with reason, and the exit notices (移出公告)
published where the listing was (Henan art. 37).

The command line, the API and the clerk pages call these; who may see or act is decided here
(``accounts.policy``), never in those layers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select

from xinyong import clock
from xinyong.accounts.policy import department_scope, require_may_act_on, require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.disclosure.view import PERSON_PUBLIC_DATASETS
from xinyong.errors import XinyongError
from xinyong.lists.change import current_fields
from xinyong.lists.events import EVENT_LABELS, EXITED, LISTED, ExitReason, _entry
from xinyong.lists.exits import exit_entry
from xinyong.lists.history import list_state
from xinyong.lists.models import list_entries, list_events, list_notices
from xinyong.measures.catalog import Measures
from xinyong.subjects.models import subjects
from xinyong.subjects.refs import PERSON

# An early exit (提前移出) is the designating department's decision for one of these reasons;
# expiry is the daily job's, repair goes through a repair case (cases/repair.py).
EARLY_EXIT_REASONS: dict[str, str] = {
    ExitReason.PERFORMED.value: ExitReason.PERFORMED.label,
    ExitReason.SOURCE.value: ExitReason.SOURCE.label,
}

# another department's entry answers as a missing one: its numbering is department business
_HIDDEN = "没有找到该名单条目"
STATUS_LABELS = {LISTED: "在列", EXITED: "已移出"}
MAX_PAGE = 200


def _kind_name(catalog: Catalog, code: str | None) -> str | None:
    kind = catalog.lists.kinds.get(code) if code else None
    return kind.name if kind else code


def _reason_label(reason: str | None) -> str | None:
    """An exit reason code as its Chinese label; free text (objection notes) as it is."""
    if reason is not None and reason in ExitReason._value2member_map_:
        return ExitReason(reason).label
    return reason


def _row(catalog: Catalog, r: Any) -> dict[str, Any]:
    m = dict(r._mapping)
    m["status_label"] = STATUS_LABELS.get(m["status"], m["status"])
    m["dataset_name"] = catalog.dataset(m["dataset"]).name
    m["list_kind_name"] = _kind_name(catalog, m.get("list_kind"))
    m["exit_reason_label"] = _reason_label(m.get("exit_reason"))
    return m


def entries_for(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """The list entries of the principal's department (every department's for operators and
    auditors), newest listing first, with the subject's name."""
    scope = department_scope(principal)
    if status is not None and status not in STATUS_LABELS:
        raise XinyongError("STATUS_UNKNOWN", f"状态只能是 {'、'.join(STATUS_LABELS)}")
    where = []
    if scope is not None:
        where.append(list_entries.c.dept_uscc == scope)
    if status is not None:
        where.append(list_entries.c.status == status)
    total = conn.execute(select(func.count()).select_from(list_entries).where(*where)).scalar()
    rows = conn.execute(
        select(list_entries, subjects.c.name.label("subject_name"))
        .outerjoin(subjects, subjects.c.id == list_entries.c.subject_id)
        .where(*where)
        .order_by(list_entries.c.listed_on.desc().nulls_last(), list_entries.c.record_id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
        .offset(max(0, offset))
    ).all()
    return {"total": int(total or 0), "items": [_row(catalog, r) for r in rows]}


def entry_for(
    conn: Connection, catalog: Catalog, principal: Principal, record_id: int
) -> dict[str, Any]:
    """One entry with its list events and its notices (prior notice, exit notice); another
    department's entry answers 'not found'."""
    department_scope(principal)  # who may read at all, before the entry is looked up
    entry = _entry(conn, record_id)
    require_may_act_on(
        principal, entry["dept_uscc"], what="list_entry", reading=True, hide=True, message=_HIDDEN
    )
    row = conn.execute(
        select(list_entries, subjects.c.name.label("subject_name"))
        .outerjoin(subjects, subjects.c.id == list_entries.c.subject_id)
        .where(list_entries.c.record_id == record_id)
    ).one()
    out = _row(catalog, row)
    out["record_state"] = entry["state"]
    out["fields"] = current_fields(catalog, entry["dataset"], dict(entry["data"] or {}))
    out["events"] = [
        dict(e._mapping)
        | {"label": EVENT_LABELS.get(e.kind, e.kind), "reason_label": _reason_label(e.reason)}
        for e in conn.execute(
            select(list_events)
            .where(list_events.c.record_id == record_id)
            .order_by(list_events.c.on_date, list_events.c.id)
        )
    ]
    notice_ids = [i for i in (entry.get("prior_notice_id"),) if i]
    out["notices"] = [
        dict(n._mapping)
        for n in conn.execute(
            select(list_notices)
            .where(
                (list_notices.c.record_id == record_id) | list_notices.c.id.in_(notice_ids or [-1])
            )
            .order_by(list_notices.c.id)
        )
    ]
    out["can_exit"] = out["status"] == LISTED
    return out


def prior_notices_for(
    conn: Connection, principal: Principal, *, limit: int = 50
) -> list[dict[str, Any]]:
    """The department's prior notices (事前告知), newest first, with the subject's name."""
    scope = department_scope(principal)
    q = (
        select(list_notices, subjects.c.name.label("subject_name"))
        .join(subjects, subjects.c.id == list_notices.c.subject_id)
        .where(list_notices.c.kind == "prior")
    )
    if scope is not None:
        q = q.where(list_notices.c.dept_uscc == scope)
    rows = conn.execute(
        q.order_by(list_notices.c.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    ).all()
    return [dict(r._mapping) for r in rows]


def subject_history(
    conn: Connection, principal: Principal, subject_id: int, at: date | None = None
) -> dict[str, Any]:
    """A subject's list events (of the principal's department's entries; all for operators and
    auditors) and the entries it was on at the end of day ``at`` (today)."""
    scope = department_scope(principal)
    at = at or clock.today(conn)
    q = select(list_events).where(list_events.c.subject_id == subject_id)
    if scope is not None:
        own = select(list_entries.c.record_id).where(list_entries.c.dept_uscc == scope)
        q = q.where(list_events.c.record_id.in_(own))
    events = [
        dict(e._mapping) | {"label": EVENT_LABELS.get(e.kind, e.kind)}
        for e in conn.execute(q.order_by(list_events.c.on_date, list_events.c.id))
    ]
    seen = {e["record_id"] for e in events}
    state = [s.as_dict() for s in list_state(conn, subject_id, at) if s.record_id in seen]
    return {"subject_id": subject_id, "at": at, "events": events, "on_lists": state}


def exit_early(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    record_id: int,
    *,
    reason: str,
    basis: str,
    on: date | None = None,
) -> dict[str, Any]:
    """提前移出: the designating department (or an operator for it) ends an entry before its
    validity runs out, for a stated reason; the exit notice is published and the departments
    implementing its measures are told to stop them (``exits.exit_entry``)."""
    require_role(principal, Role.CLERK, Role.DEPT_SYSTEM, Role.OPERATOR)
    entry = _entry(conn, record_id)
    require_may_act_on(principal, entry["dept_uscc"], what="list_entry", hide=True, message=_HIDDEN)
    if reason not in EARLY_EXIT_REASONS:
        allowed = "、".join(f"{k}（{v}）" for k, v in EARLY_EXIT_REASONS.items())
        raise XinyongError("EXIT_REASON_INVALID", f"提前移出的原因只能是：{allowed}")
    today = clock.today(conn)
    on = on or today
    if on > today:
        raise XinyongError("EXIT_DATE_FUTURE", f"移出日期 {on} 不能晚于今天（{today}）")
    if entry.get("listed_on") and on < entry["listed_on"]:
        raise XinyongError(
            "EXIT_DATE_BEFORE_LISTING", f"移出日期 {on} 早于列入日期 {entry['listed_on']}"
        )
    exit_entry(
        conn, catalog, measures, principal, record_id, reason=ExitReason(reason), on=on, basis=basis
    )
    return entry_for(conn, catalog, principal, record_id)


def _exit_notices_statement(one_subject: bool) -> Select[Any]:
    where = [
        list_notices.c.kind == "exit",
        list_notices.c.dataset.in_(bindparam("datasets", expanding=True)),
    ]
    if one_subject:
        where.append(list_notices.c.subject_id == bindparam("sid"))
    return (
        select(
            list_notices.c.id,
            list_notices.c.subject_id,
            list_notices.c.dataset,
            list_notices.c.served_on,
            list_notices.c.reasons,
            list_notices.c.basis,
            subjects.c.name.label("subject_name"),
            subjects.c.category,
        )
        .join(subjects, subjects.c.id == list_notices.c.subject_id)
        .where(*where)
        .order_by(list_notices.c.served_on.desc(), list_notices.c.id.desc())
        .limit(bindparam("n"))
    )


# Built once, bound per call (every profile and list page reads the notices: building and
# cache-keying the statement cost more than running it on an empty or small table).
_EXIT_NOTICES = {one: _exit_notices_statement(one) for one in (False, True)}


def exit_notices(
    conn: Connection,
    catalog: Catalog,
    datasets: tuple[str, ...],
    *,
    limit: int = 20,
    subject_id: int | None = None,
) -> list[dict[str, Any]]:
    """移出公告 of the list datasets ``datasets`` (of one subject with ``subject_id``), newest
    first, for the public list pages where the entries were published, the public API and the
    subject's page (art. 37). A natural person's notice is published only where the disclosure
    engine publishes persons (``PERSON_PUBLIC_DATASETS``)."""
    statement = _EXIT_NOTICES[subject_id is not None]
    values: dict[str, Any] = {"datasets": list(datasets), "n": limit * 4}
    if subject_id is not None:
        values["sid"] = subject_id
    rows = conn.execute(statement, values).all()
    out = []
    for r in rows:
        if r.category == PERSON and r.dataset not in PERSON_PUBLIC_DATASETS:
            continue
        out.append(dict(r._mapping) | {"dataset_name": catalog.dataset(r.dataset).name})
        if len(out) >= limit:
            break
    return out
