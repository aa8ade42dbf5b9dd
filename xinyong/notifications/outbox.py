"""The outbox (发件箱): events written in the caller's transaction, one delivery per department.

``enqueue`` is what the domains call when something departments must act on happens (a list
entry created, changed or ended; a new record about a subscribed subject). Because it writes in
the caller's transaction, an event exists exactly when the change committed; nothing is sent
from here. The pull feed reads the deliveries, the webhook worker pushes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Table, and_, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from xinyong import clock
from xinyong.db import bulk_insert, is_sqlite, rows_by_keys, timestamp_param
from xinyong.notifications.models import (
    notification_counters,
    notification_deliveries,
    notification_events,
    webhook_deliveries,
    webhook_endpoints,
)

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Outgoing:
    """One event to enqueue: ``event_key`` makes it idempotent (the same key, one event)."""

    kind: str
    subject_id: int | None
    payload: dict[str, Any]
    dept_usccs: tuple[str, ...]
    event_key: str
    # None: the connection's clock at enqueue time.
    created_at: datetime | None = None


def new_event_uid() -> str:
    return f"evt_{uuid.uuid4().hex}"


def enqueue(
    conn: Connection,
    *,
    kind: str,
    subject_id: int | None,
    payload: dict[str, Any],
    dept_usccs: Iterable[str],
    event_key: str,
) -> int:
    """Record one event for the departments ``dept_usccs``; returns its id.

    Idempotent on ``event_key`` (e.g. ``list.entered:record:123:v2``): a key already stored
    returns the stored event, and only departments it did not yet reach are added.
    """
    return enqueue_many(
        conn,
        [
            Outgoing(
                kind=kind,
                subject_id=subject_id,
                payload=payload,
                dept_usccs=tuple(dept_usccs),
                event_key=event_key,
            )
        ],
    )[0]


def enqueue_many(conn: Connection, events: Sequence[Outgoing]) -> list[int]:
    """``enqueue`` for many events in a fixed number of statements (plus one per department);
    returns the event ids in the order given."""
    for ev in events:
        _check(ev)
    if not events:
        return []
    by_key: dict[str, Outgoing] = {}
    for ev in events:
        by_key.setdefault(ev.event_key, ev)

    stored = _ids_by_key(conn, by_key)
    fresh = [ev for key, ev in by_key.items() if key not in stored]
    if fresh:
        at = clock.now(conn)
        # ON CONFLICT: a concurrent transaction enqueuing the same key wins, we reuse its event.
        # With RETURNING, SQLAlchemy sends the rows as batched multi-row VALUES statements
        # ("insertmanyvalues"); a plain executemany would be one round trip per event.
        t = notification_events
        inserted = conn.execute(
            _insert_ignoring(conn, t, ["event_key"]).returning(t.c.id, t.c.event_key),
            [
                {
                    "event_uid": new_event_uid(),
                    "event_key": ev.event_key,
                    "kind": ev.kind,
                    "subject_id": ev.subject_id,
                    "payload": ev.payload,
                    "created_at": ev.created_at or at,
                }
                for ev in fresh
            ],
        )
        stored.update({r.event_key: r.id for r in inserted})
        if len(stored) < len(by_key):  # a concurrent enqueue of the same key won the race
            stored = _ids_by_key(conn, by_key)

    _add_deliveries(conn, [(stored[key], ev) for key, ev in by_key.items()])
    return [stored[ev.event_key] for ev in events]


def _check(ev: Outgoing) -> None:
    # Programming errors of a producer, not user input: fail loudly.
    if not ev.event_key or len(ev.event_key) > MAX_KEY_LENGTH:
        raise ValueError(f"event_key must be 1..{MAX_KEY_LENGTH} characters: {ev.event_key!r}")
    if not ev.kind or len(ev.kind) > 32:
        raise ValueError(f"kind must be 1..32 characters: {ev.kind!r}")


def _ids_by_key(conn: Connection, by_key: dict[str, Outgoing]) -> dict[str, int]:
    t = notification_events
    return {
        r.event_key: r.id
        for r in rows_by_keys(conn, [t.c.id, t.c.event_key], t.c.event_key, by_key)
    }


def _insert_ignoring(conn: Connection, table: Table, conflict: list[str]) -> Insert:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, in the dialect's own words."""
    if is_sqlite(conn):
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)


def _add_deliveries(conn: Connection, events: list[tuple[int, Outgoing]]) -> None:
    """One delivery per (event, department) not yet delivered, numbered per department."""
    d = notification_deliveries
    wanted = {(event_id, dept) for event_id, ev in events for dept in ev.dept_usccs if dept}
    if not wanted:
        return
    have: set[tuple[int, str]] = set()
    ids = sorted({event_id for event_id, _ in wanted})
    for r in rows_by_keys(conn, [d.c.event_id, d.c.dept_uscc], d.c.event_id, ids):
        have.add((r.event_id, r.dept_uscc))
    at = clock.now(conn)
    created = {event_id: ev.created_at or at for event_id, ev in events}
    todo: dict[str, list[int]] = {}
    for event_id, dept in sorted(wanted - have):
        todo.setdefault(dept, []).append(event_id)
    if not todo:
        return

    rows: list[tuple[int, str, int, str]] = []
    ranges: dict[str, tuple[int, int]] = {}
    # Departments in a fixed order, so that two transactions never lock counters crosswise.
    for dept in sorted(todo):
        event_ids = todo[dept]
        last = _reserve(conn, dept, len(event_ids))
        first = last - len(event_ids) + 1
        ranges[dept] = (first, last)
        rows.extend(
            (eid, dept, first + i, timestamp_param(conn, created[eid]))
            for i, eid in enumerate(event_ids)
        )
    # A plain bulk insert (COPY on PostgreSQL) is safe: the pairs already stored were left out
    # above, and a concurrent enqueue of the same event waited on our event row or counter.
    bulk_insert(conn, d, ["event_id", "dept_uscc", "seq", "created_at"], rows)
    _add_webhook_pushes(conn, ranges)


def _reserve(conn: Connection, dept: str, count: int) -> int:
    """Take ``count`` numbers from the department's counter; the row stays locked (PostgreSQL)
    until the caller's transaction ends, so a department's numbers commit in order."""
    c = notification_counters
    conn.execute(_insert_ignoring(conn, c, ["dept_uscc"]).values(dept_uscc=dept, last_seq=0))
    return int(
        conn.execute(
            update(c)
            .where(c.c.dept_uscc == dept)
            .values(last_seq=c.c.last_seq + count)
            .returning(c.c.last_seq)
        ).scalar_one()
    )


def _add_webhook_pushes(conn: Connection, ranges: dict[str, tuple[int, int]]) -> None:
    """A pending push for each new delivery of a department with an active webhook."""
    e, d, w = webhook_endpoints, notification_deliveries, webhook_deliveries
    active = {r.dept_uscc for r in rows_by_keys(conn, [e.c.dept_uscc], e.c.active_dept, ranges)}
    now = clock.now(conn)
    for dept in sorted(active):
        first, last = ranges[dept]
        pushes = (
            select(
                d.c.id,
                e.c.id,
                literal("pending"),
                literal(0),
                literal(now, w.c.next_attempt_at.type),
                literal(now, w.c.created_at.type),
            )
            .select_from(d.join(e, and_(e.c.active_dept == d.c.dept_uscc)))
            .where(d.c.dept_uscc == dept, d.c.seq >= first, d.c.seq <= last)
        )
        conn.execute(
            insert(w).from_select(
                [
                    "delivery_id",
                    "endpoint_id",
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "created_at",
                ],
                pushes,
            )
        )
