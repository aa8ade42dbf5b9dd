"""A subject's list state on any date (名单状态), from the list events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from xinyong.lists.models import list_events


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
