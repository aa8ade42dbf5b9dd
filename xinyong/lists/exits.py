"""Exits (移出) of list entries, by the designating department or on expiry, with exit notices;
and the record states of objection (异议中) and credit repair (已修复)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xinyong import clock
from xinyong.accounts.policy import require_may_act_on
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.db import rows_by_keys
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.lists.events import (
    EXITED,
    LISTED,
    ExitReason,
    ListChange,
    _acting_dept,
    _entry,
    _event,
    add_events,
    notify,
    triggered_measures,
)
from xinyong.lists.models import list_entries, list_notices
from xinyong.measures.catalog import Measures
from xinyong.records import states
from xinyong.records.models import records
from xinyong.subjects.models import subjects


def exit_entry(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    record_id: int,
    *,
    reason: ExitReason,
    on: date,
    basis: str,
) -> dict[str, Any]:
    """End a list entry: the record leaves public view, an exit notice (移出公告) is published
    and the implementing departments are told to stop the measures (art. 37)."""
    entry = _entry(conn, record_id)
    dept = _acting_dept(principal, entry["dept_uscc"])
    if dept != entry["dept_uscc"]:
        raise NotAllowed("LIST_NOT_DESIGNATOR", "只有认定部门可以移出名单")
    if entry["status"] == EXITED:
        raise Conflict("LIST_ALREADY_EXITED", f"该条目已于 {entry['exited_on']} 移出")
    if not basis.strip():
        raise XinyongError("REASON_REQUIRED", "移出须写明依据")
    _exit_many(
        conn,
        catalog,
        measures,
        [entry],
        reason=reason,
        on=on,
        basis=basis.strip(),
        actor=principal.name,
    )
    audit.append_for(
        conn,
        principal,
        action="list.exit",
        dept_uscc=dept,
        record_id=record_id,
        subject_id=entry["subject_id"],
        purpose=basis.strip(),
        detail={"reason": reason.value, "on": on.isoformat()},
    )
    return _entry(conn, record_id)


def _exit_many(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    entries: Sequence[dict[str, Any]],
    *,
    reason: ExitReason,
    on: date,
    basis: str,
    actor: str,
    batch_id: int | None = None,
) -> None:
    """Exit many entries in a fixed number of statements (the daily expiry uses it too)."""
    if not entries:
        return
    now = clock.now(conn)
    new_state = states.REPAIRED if reason is ExitReason.REPAIRED else states.EXPIRED
    ids = [e["record_id"] for e in entries]
    for i in range(0, len(ids), 2000):
        part = ids[i : i + 2000]
        conn.execute(
            update(list_entries)
            .where(list_entries.c.record_id.in_(part))
            .values(status=EXITED, exited_on=on, exit_reason=reason.value, updated_at=now)
        )
        # withdrawn records stay withdrawn; everything else leaves public view
        conn.execute(
            update(records)
            .where(records.c.id.in_(part), records.c.state != states.WITHDRAWN)
            .values(state=new_state, updated_at=now)
        )
    kind = "expired" if reason is ExitReason.PERIOD_OVER else "exited"
    add_events(
        conn,
        [
            _event(
                e["record_id"],
                e["subject_id"],
                e["dataset"],
                kind,
                on,
                e.get("valid_until"),
                actor,
                batch_id=batch_id,
                reason=reason.value,
                now=now,
            )
            for e in entries
        ],
    )
    names = _subject_names(conn, {e["subject_id"] for e in entries if e["subject_id"]})
    # 移出公告: one notice per entry, published where the entry was (the portal's list pages)
    conn.execute(
        insert(list_notices),
        [
            {
                "kind": "exit",
                "dataset": e["dataset"],
                "subject_id": e["subject_id"],
                "dept_uscc": e["dept_uscc"],
                "record_id": e["record_id"],
                "doc_no": None,
                "basis": basis,
                "reasons": (
                    f"{names.get(e['subject_id'], '')}自{on.isoformat()}起移出"
                    f"{catalog.dataset(e['dataset']).name}（{reason.label}），"
                    "各有关部门停止实施相关惩戒（激励）措施"
                ),
                "measures": [
                    m.id for m in triggered_measures(measures, e["dataset"], on, e.get("list_kind"))
                ],
                "served_on": on,
                "objection_until": None,
                "actor": actor,
                "created_at": now,
            }
            for e in entries
            if e["subject_id"] is not None
        ],
    )
    notify(
        conn,
        measures,
        [
            ListChange(
                kind="list.exited",
                record_id=e["record_id"],
                version=int(e.get("version") or 1),
                dataset=e["dataset"],
                subject_id=e["subject_id"],
                subject_name=names.get(e["subject_id"]),
                dept_uscc=e["dept_uscc"],
                listed_on=e.get("listed_on"),
                valid_until=e.get("valid_until"),
                exited_on=on,
                reason=reason.label,
                list_kind=e.get("list_kind"),
            )
            for e in entries
        ],
    )


def _subject_names(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    return {
        r[0]: r[1] for r in rows_by_keys(conn, (subjects.c.id, subjects.c.name), subjects.c.id, ids)
    }


def expire_entries(
    conn: Connection, catalog: Catalog, measures: Measures, today: date | None = None
) -> int:
    """Exit every entry whose validity ended before ``today`` (a step of ``xinyong daily``).

    Set-based: one indexed query for the due entries, then a fixed number of statements per
    2,000 entries. Returns how many entries expired.
    """
    today = today or clock.today(conn)
    due = [
        dict(r._mapping)
        for r in conn.execute(
            select(list_entries, records.c.version)
            .join(records, records.c.id == list_entries.c.record_id)
            .where(list_entries.c.status == LISTED, list_entries.c.valid_until < today)
        )
    ]
    # an entry is exited on the day after its last valid day
    by_day: dict[date, list[dict[str, Any]]] = {}
    for e in due:
        by_day.setdefault(e["valid_until"] + timedelta(days=1), []).append(e)
    for day, entries in sorted(by_day.items()):
        _exit_many(
            conn,
            catalog,
            measures,
            entries,
            reason=ExitReason.PERIOD_OVER,
            on=day,
            basis="名单有效期届满，自动移出（河南省社会信用条例第三十七条）",
            actor="system:daily",
        )
    return len(due)


# -- objection and repair states ---------------------------------------------------------------


def mark_objection(
    conn: Connection, principal: Principal, record_id: int, *, open: bool, reason: str
) -> dict[str, Any]:
    """An objection (异议) about a record is under way (``open``) or closed without a change.

    Sets the record to 异议中 / back to 公示中; the check shows such a subject with that state
    and lists the measures it no longer triggers. The objection workflow (later work) calls
    this; so may the operator by hand.
    """
    if principal.role is not Role.OPERATOR and principal.role not in DEPARTMENT_ROLES:
        raise NotAllowed("OBJECTION_NOT_ALLOWED", "无权变更异议状态")
    rec = conn.execute(
        select(
            records.c.id,
            records.c.state,
            records.c.subject_id,
            records.c.dataset,
            records.c.dept_uscc,
        ).where(records.c.id == record_id)
    ).first()
    if rec is None:
        raise NotFound("RECORD_NOT_FOUND", f"没有编号为 {record_id} 的记录")
    require_may_act_on(
        principal, rec.dept_uscc, what="record", message="只能处理本部门报送记录的异议"
    )
    want_from, want_to = (
        (states.PUBLISHED, states.OBJECTED) if open else (states.OBJECTED, states.PUBLISHED)
    )
    if rec.state != want_from:
        raise Conflict(
            "RECORD_STATE", f"记录当前状态为“{rec.state}”，不能{'提出' if open else '办结'}异议"
        )
    now = clock.now(conn)
    conn.execute(
        update(records).where(records.c.id == record_id).values(state=want_to, updated_at=now)
    )
    listed = conn.execute(
        select(list_entries.c.valid_until).where(list_entries.c.record_id == record_id)
    ).first()
    if listed is not None:
        add_events(
            conn,
            [
                _event(
                    record_id,
                    rec.subject_id,
                    rec.dataset,
                    "objected" if open else "objection_closed",
                    clock.today(conn),
                    listed.valid_until,
                    principal.name,
                    reason=reason,
                    now=now,
                )
            ],
        )
    audit.append_for(
        conn,
        principal,
        action="record.objection" if open else "record.objection_closed",
        record_id=record_id,
        subject_id=rec.subject_id,
        purpose=reason,
    )
    return {"record_id": record_id, "state": want_to}


def mark_repaired(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    record_id: int,
    *,
    basis: str,
    on: date | None = None,
) -> dict[str, Any]:
    """Credit repair (信用修复) granted: the record becomes 已修复; a list entry exits with an
    exit notice. Called by the repair workflow (later work) or the operator."""
    if principal.role is not Role.OPERATOR and principal.role not in DEPARTMENT_ROLES:
        raise NotAllowed("REPAIR_NOT_ALLOWED", "无权登记信用修复")
    on = on or clock.today(conn)
    listed = conn.execute(
        select(list_entries.c.status).where(list_entries.c.record_id == record_id)
    ).first()
    if listed is not None and listed.status == LISTED:
        return exit_entry(
            conn,
            catalog,
            measures,
            principal,
            record_id,
            reason=ExitReason.REPAIRED,
            on=on,
            basis=basis,
        )
    rec = conn.execute(
        select(records.c.state, records.c.subject_id, records.c.dept_uscc).where(
            records.c.id == record_id
        )
    ).first()
    if rec is None:
        raise NotFound("RECORD_NOT_FOUND", f"没有编号为 {record_id} 的记录")
    require_may_act_on(
        principal, rec.dept_uscc, what="record", message="只能登记本部门报送记录的信用修复"
    )
    if rec.state not in (states.PUBLISHED, states.OBJECTED):
        raise Conflict("RECORD_STATE", f"记录当前状态为“{rec.state}”，不能登记修复")
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(state=states.REPAIRED, updated_at=clock.now(conn))
    )
    audit.append_for(
        conn,
        principal,
        action="record.repaired",
        record_id=record_id,
        subject_id=rec.subject_id,
        purpose=basis,
    )
    return {"record_id": record_id, "state": states.REPAIRED}
