"""The lists lifecycle (名单管理): prior notice, entry, objection, repair, exit, expiry, and a
subject's list state on any past date.

Henan rules carried here (河南省社会信用条例): before listing, the designating department
serves a written prior notice with basis, reasons, measures and the right to object (art. 28);
validity, repair and exit are set by the designating department, and on exit an exit notice is
published through the original channel and every department stops the measures (art. 37).

Record states used (``records.states``): an exited entry's record becomes 期满停止公示 (period
over, obligations performed) or 已修复 (credit repair); an objection under way is 异议中 (shown
as 异议处理中) and returns to 公示中 when the objection is closed without a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.db import rows_by_keys
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.lists.models import list_entries, list_events, list_notices
from xinyong.measures.catalog import Measure, Measures
from xinyong.notifications.outbox import Outgoing, enqueue_many
from xinyong.records import states
from xinyong.records.models import records
from xinyong.subjects.models import subjects

BEIJING = timezone(timedelta(hours=8))

LISTED = "listed"
EXITED = "exited"

# Listing without a recorded written prior notice is a receipt warning for these datasets
# (see ``prior_notice_warning``). Courts (SXBZX) follow their own procedure; market regulation
# (JYYC) notifies under 企业信息公示暂行条例; the red list needs no notice.
PRIOR_NOTICE_REQUIRED: frozenset[str] = frozenset({"YZSX"})


class ExitReason(StrEnum):
    PERIOD_OVER = "period_over"  # 有效期届满
    PERFORMED = "performed"  # 已履行义务
    REPAIRED = "repaired"  # 信用修复
    SOURCE = "source"  # the designating department reported the exit in its delivery

    @property
    def label(self) -> str:
        return _EXIT_LABELS[self]


_EXIT_LABELS = {
    ExitReason.PERIOD_OVER: "有效期届满",
    ExitReason.PERFORMED: "已履行法定义务",
    ExitReason.REPAIRED: "已完成信用修复",
    ExitReason.SOURCE: "认定部门决定移出",
}

EVENT_LABELS = {
    "entered": "列入",
    "changed": "变更",
    "objected": "提出异议",
    "objection_closed": "异议办结",
    "repaired": "信用修复",
    "exited": "移出",
    "expired": "期满移出",
}


def today_beijing() -> date:
    return datetime.now(BEIJING).date()


def list_datasets(catalog: Catalog) -> dict[str, str]:
    """The list datasets and their kind (red / black / abnormal / watch)."""
    return {c: d.list_kind for c, d in catalog.datasets.items() if d.list_kind}


def triggered_measures(measures: Measures, dataset: str, on: date) -> list[Measure]:
    """The measures an entry of ``dataset`` triggers (any matter), in force on ``on``."""
    return [
        m
        for m in measures.measures.values()
        if m.in_force(on) and any(t.dataset == dataset for t in m.triggers)
    ]


def _parse(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class EntryFacts:
    """What a list record's data says about its entry (the shared MD_* items)."""

    listed_on: date | None
    valid_until: date | None
    exited_on: date | None
    exit_reason: str | None

    @classmethod
    def of(cls, data: dict[str, Any], decision_date: date | None) -> EntryFacts:
        return cls(
            listed_on=_parse(data.get("MD_LRRQ")) or decision_date,
            valid_until=_parse(data.get("MD_YXQZ")),
            exited_on=_parse(data.get("MD_TCRQ")),
            exit_reason=data.get("MD_TCYY"),
        )


# -- notifications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListChange:
    """One list event that departments must hear about."""

    kind: str  # list.entered / list.changed / list.exited
    record_id: int
    version: int
    dataset: str
    subject_id: int | None
    subject_name: str | None
    dept_uscc: str
    listed_on: date | None
    valid_until: date | None
    exited_on: date | None
    reason: str | None = None


def notify(conn: Connection, measures: Measures, changes: Sequence[ListChange]) -> int:
    """Enqueue one notification per change for the implementing departments of the measures
    the entry triggers. Returns how many were enqueued."""
    events = []
    for ch in changes:
        on = ch.exited_on or ch.listed_on or today_beijing()
        ms = triggered_measures(measures, ch.dataset, on)
        depts: dict[str, None] = {}
        for m in ms:
            for uscc in measures.depts_of(m):
                depts.setdefault(uscc, None)
        events.append(
            Outgoing(
                kind=ch.kind,
                subject_id=ch.subject_id,
                payload={
                    "dataset": ch.dataset,
                    "record_id": ch.record_id,
                    "subject_id": ch.subject_id,
                    "subject_name": ch.subject_name,
                    "designated_by": ch.dept_uscc,
                    "listed_on": ch.listed_on.isoformat() if ch.listed_on else None,
                    "valid_until": ch.valid_until.isoformat() if ch.valid_until else None,
                    "exited_on": ch.exited_on.isoformat() if ch.exited_on else None,
                    "reason": ch.reason,
                    "measures": [m.summary() for m in ms],
                },
                dept_usccs=tuple(depts),
                event_key=f"{ch.kind}:record:{ch.record_id}:v{ch.version}",
            )
        )
    if events:
        enqueue_many(conn, events)
    return len(events)


# -- prior notice (事前告知) --------------------------------------------------------------------


def _acting_dept(principal: Principal, dept_uscc: str | None) -> str:
    if principal.role in DEPARTMENT_ROLES:
        assert principal.dept_uscc is not None
        if dept_uscc is not None and dept_uscc != principal.dept_uscc:
            raise NotAllowed("DEPT_MISMATCH", "只能以本部门名义办理")
        return principal.dept_uscc
    if principal.role is Role.OPERATOR and dept_uscc:
        return dept_uscc
    raise NotAllowed("LIST_NOT_ALLOWED", "只有认定部门（或代其办理的平台管理员）可以办理名单事项")


def record_prior_notice(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    *,
    dataset: str,
    subject_id: int,
    basis: str,
    reasons: str,
    served_on: date,
    doc_no: str | None = None,
    objection_days: int = 5,
    dept_uscc: str | None = None,
) -> dict[str, Any]:
    """Record that the designating department served the written prior notice (art. 28).

    The measures named in the notice are those the listing will trigger, taken from the
    measures list, so that the notice and the later check agree. ``objection_days`` working
    days are not computed here: the objection window is counted in calendar days as the notice
    states it [I: the regulation leaves the period to the designating body].
    """
    ds = catalog.dataset(dataset)
    if not ds.list_kind:
        raise XinyongError("LIST_DATASET_REQUIRED", f"{ds.name} 不是名单类数据集")
    dept = catalog.department(_acting_dept(principal, dept_uscc))
    if ds.code not in dept.datasets:
        raise NotAllowed("LIST_NOT_DESIGNATOR", f"{dept.name} 不是“{ds.name}”的认定部门")
    if not basis.strip() or not reasons.strip():
        raise XinyongError("NOTICE_INCOMPLETE", "事前告知须写明认定依据和事实理由")
    ms = [m.id for m in triggered_measures(measures, ds.code, served_on)]
    now = datetime.now(UTC)
    notice_id: int = conn.execute(
        insert(list_notices).returning(list_notices.c.id),
        {
            "kind": "prior",
            "dataset": ds.code,
            "subject_id": subject_id,
            "dept_uscc": dept.uscc,
            "doc_no": doc_no,
            "basis": basis.strip(),
            "reasons": reasons.strip(),
            "measures": ms,
            "served_on": served_on,
            "objection_until": served_on + timedelta(days=objection_days),
            "actor": principal.name,
            "created_at": now,
        },
    ).scalar_one()
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="list.prior_notice",
        dept_uscc=dept.uscc,
        subject_id=subject_id,
        source=principal.source or None,
        detail={"dataset": ds.code, "notice_id": notice_id, "doc_no": doc_no},
    )
    return notice(conn, notice_id)


def notice(conn: Connection, notice_id: int) -> dict[str, Any]:
    row = conn.execute(select(list_notices).where(list_notices.c.id == notice_id)).first()
    if row is None:
        raise NotFound("NOTICE_NOT_FOUND", f"没有编号为 {notice_id} 的告知或公告")
    return dict(row._mapping)


def prior_notice_warning(dataset_name: str) -> tuple[str, str]:
    """Decision: listing without a recorded prior notice is *accepted with a warning*.

    The listing is the designating department's own legal act; refusing the row would leave
    the list incomplete (and the measures unenforced) while a paper record is chased. The
    warning goes on the receipt and the batch; ``list_entries.prior_notice_id`` stays NULL, so
    the credit office can list every entry without a notice.
    """
    return (
        "LIST_NO_PRIOR_NOTICE",
        f"列入“{dataset_name}”前未登记书面事前告知（河南省社会信用条例第二十八条）；"
        "已列入，请认定部门补登告知记录",
    )


# -- events ------------------------------------------------------------------------------------


def _event(
    record_id: int,
    subject_id: int | None,
    dataset: str,
    kind: str,
    on: date,
    valid_until: date | None,
    actor: str,
    *,
    batch_id: int | None = None,
    reason: str | None = None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "subject_id": subject_id,
        "dataset": dataset,
        "kind": kind,
        "on_date": on,
        "valid_until": valid_until,
        "batch_id": batch_id,
        "actor": actor,
        "reason": reason,
        "created_at": now,
    }


def add_events(conn: Connection, events: list[dict[str, Any]]) -> None:
    if events:
        conn.execute(insert(list_events), events)


def _entry(conn: Connection, record_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(list_entries, records.c.state, records.c.version, records.c.data)
        .join(records, records.c.id == list_entries.c.record_id)
        .where(list_entries.c.record_id == record_id)
    ).first()
    if row is None:
        raise NotFound("LIST_ENTRY_NOT_FOUND", f"记录 {record_id} 不是名单条目")
    return dict(row._mapping)


# -- exit (移出) ---------------------------------------------------------------------------------


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
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="list.exit",
        dept_uscc=dept,
        record_id=record_id,
        subject_id=entry["subject_id"],
        purpose=basis.strip(),
        source=principal.source or None,
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
    now = datetime.now(UTC)
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
                "measures": [m.id for m in triggered_measures(measures, e["dataset"], on)],
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
    today = today or today_beijing()
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
    if principal.role in DEPARTMENT_ROLES and principal.dept_uscc != rec.dept_uscc:
        raise NotAllowed("RECORD_NOT_OWNER", "只能处理本部门报送记录的异议")
    want_from, want_to = (
        (states.PUBLISHED, states.OBJECTED) if open else (states.OBJECTED, states.PUBLISHED)
    )
    if rec.state != want_from:
        raise Conflict(
            "RECORD_STATE", f"记录当前状态为“{rec.state}”，不能{'提出' if open else '办结'}异议"
        )
    now = datetime.now(UTC)
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
                    today_beijing(),
                    listed.valid_until,
                    principal.name,
                    reason=reason,
                    now=now,
                )
            ],
        )
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="record.objection" if open else "record.objection_closed",
        record_id=record_id,
        subject_id=rec.subject_id,
        purpose=reason,
        source=principal.source or None,
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
    on = on or today_beijing()
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
    if principal.role in DEPARTMENT_ROLES and principal.dept_uscc != rec.dept_uscc:
        raise NotAllowed("RECORD_NOT_OWNER", "只能登记本部门报送记录的信用修复")
    if rec.state not in (states.PUBLISHED, states.OBJECTED):
        raise Conflict("RECORD_STATE", f"记录当前状态为“{rec.state}”，不能登记修复")
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(state=states.REPAIRED, updated_at=datetime.now(UTC))
    )
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="record.repaired",
        record_id=record_id,
        subject_id=rec.subject_id,
        purpose=basis,
        source=principal.source or None,
    )
    return {"record_id": record_id, "state": states.REPAIRED}


# -- state at a date -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListState:
    record_id: int
    dataset: str
    status: str  # 在列 / 异议处理中
    listed_on: date
    valid_until: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "dataset": self.dataset,
            "status": self.status,
            "listed_on": self.listed_on.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


_ENDING = frozenset({"exited", "expired", "repaired"})


def list_state(conn: Connection, subject_id: int, at: date) -> list[ListState]:
    """The list entries ``subject_id`` was on at the end of day ``at``, from the event history.

    Replays the events effective on or before ``at`` per entry: an entry counts while its last
    event is not an exit and its validity (as of that event) had not run out.
    """
    rows = conn.execute(
        select(list_events)
        .where(list_events.c.subject_id == subject_id, list_events.c.on_date <= at)
        .order_by(list_events.c.on_date, list_events.c.id)
    ).all()
    first: dict[int, date] = {}
    last: dict[int, Any] = {}
    for ev in rows:
        if ev.kind == "entered":
            first.setdefault(ev.record_id, ev.on_date)
        last[ev.record_id] = ev
    out = []
    for rid, ev in last.items():
        if ev.kind in _ENDING or rid not in first:
            continue
        if ev.valid_until is not None and ev.valid_until < at:
            continue
        status = "异议处理中" if ev.kind == "objected" else "在列"
        out.append(ListState(rid, ev.dataset, status, first[rid], ev.valid_until))
    return sorted(out, key=lambda s: (s.listed_on, s.record_id))
