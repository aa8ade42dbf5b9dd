"""What every part of the lists lifecycle shares: an entry's states and exit reasons, labels,
the facts of an entry, the department acting, list events (名单事件) and the notifications of
list changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select

from xinyong import clock
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.departments import service as departments
from xinyong.errors import NotAllowed, NotFound
from xinyong.lists.models import list_entries, list_events
from xinyong.measures.catalog import Measure, Measures
from xinyong.notifications.outbox import Outgoing, enqueue_many
from xinyong.records.models import records

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


def list_datasets(catalog: Catalog) -> dict[str, str]:
    """The list datasets and their kind (red / black / abnormal / watch)."""
    return {c: d.list_kind for c, d in catalog.datasets.items() if d.list_kind}


def triggered_measures(
    measures: Measures, dataset: str, on: date, kind: str | None = None
) -> list[Measure]:
    """The measures an entry of list kind ``kind`` (名单类别) triggers (any matter), in force
    on ``on``. Without a kind (entries stored before the register), those of any kind of
    ``dataset``: a notice then names more than the entry may trigger, never fewer."""
    kinds = {kind} if kind else {k for k, d in measures.kind_datasets.items() if d == dataset}
    return [
        m
        for m in measures.measures.values()
        if m.in_force(on)
        and any(t.dataset == dataset or kinds.intersection(t.lists) for t in m.triggers)
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


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_valid_until(listed_on: date, years: int) -> date:
    """The last valid day of an entry listed on ``listed_on`` for ``years`` years (列入期限N年):
    the day before the anniversary, so a three-year entry listed on 2026-03-02 is valid up to
    and including 2029-03-01."""
    return add_years(listed_on, years) - timedelta(days=1)


# -- notifications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListChange:
    """One list event that departments must hear about."""

    kind: str  # list.noticed / list.entered / list.changed / list.exited
    record_id: int | None  # None for a prior notice (no entry yet)
    version: int
    dataset: str
    subject_id: int | None
    subject_name: str | None
    dept_uscc: str
    listed_on: date | None
    valid_until: date | None
    exited_on: date | None
    reason: str | None = None
    list_kind: str | None = None  # 名单类别
    notice_id: int | None = None  # the prior notice (事前告知) a list.noticed event is about

    @property
    def event_key(self) -> str:
        if self.record_id is None:
            return f"{self.kind}:notice:{self.notice_id}"
        return f"{self.kind}:record:{self.record_id}:v{self.version}"


def notify(conn: Connection, measures: Measures, changes: Sequence[ListChange]) -> int:
    """Enqueue one notification per change for the implementing departments of the measures
    the entry triggers (starts, changes or stops; a prior notice: will trigger). Every step of
    the lifecycle calls it: prior notice, listing, change, early exit, expiry. Returns how
    many were enqueued."""
    events = []
    registered = departments.all_departments(conn) if changes else {}
    for ch in changes:
        on = ch.exited_on or ch.listed_on or clock.today(conn)
        ms = triggered_measures(measures, ch.dataset, on, ch.list_kind)
        depts: dict[str, None] = {}
        for m in ms:
            for uscc in measures.depts_of(m, registered):
                depts.setdefault(uscc, None)
        events.append(
            Outgoing(
                kind=ch.kind,
                subject_id=ch.subject_id,
                payload={
                    "dataset": ch.dataset,
                    "list_kind": ch.list_kind,
                    "record_id": ch.record_id,
                    "subject_id": ch.subject_id,
                    "subject_name": ch.subject_name,
                    "designated_by": ch.dept_uscc,
                    "listed_on": ch.listed_on.isoformat() if ch.listed_on else None,
                    "valid_until": ch.valid_until.isoformat() if ch.valid_until else None,
                    "exited_on": ch.exited_on.isoformat() if ch.exited_on else None,
                    "reason": ch.reason,
                    "notice_id": ch.notice_id,
                    "measures": [m.summary() for m in ms],
                },
                dept_usccs=tuple(depts),
                event_key=ch.event_key,
            )
        )
    if events:
        enqueue_many(conn, events)
    return len(events)


def _acting_dept(principal: Principal, dept_uscc: str | None) -> str:
    if principal.role in DEPARTMENT_ROLES:
        assert principal.dept_uscc is not None
        if dept_uscc is not None and dept_uscc != principal.dept_uscc:
            raise NotAllowed("DEPT_MISMATCH", "只能以本部门名义办理")
        return principal.dept_uscc
    if principal.role is Role.OPERATOR and dept_uscc:
        return dept_uscc
    raise NotAllowed("LIST_NOT_ALLOWED", "只有认定部门（或代其办理的平台管理员）可以办理名单事项")


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
