"""Publicity expiry, a step of ``xinyong daily`` (registered in ``xinyong.jobs``).

The step is set-based SQL over the whole table (never a loop over rows), inside the caller's
transaction, and idempotent: run twice for the same day, the second run changes nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, exists, func, literal, select, update

from xinyong.daily import DailyRun
from xinyong.db import is_sqlite
from xinyong.records.models import record_versions, records
from xinyong.records.states import EXPIRED, PUBLISHED
from xinyong.records.store import archive_versions

EXPIRY_CHANGE = "期满停止公示"


def expire_publicity(conn: Connection, run: DailyRun) -> dict[str, int]:
    """Records 公示中 whose last day of publicity (publicity_max_end) is before ``as_of``
    become 期满停止公示: archived, kept, out of public view (``state_rules``: not ``public``).

    One INSERT … SELECT keeps each record's version in force in ``record_versions`` (as
    ``link_pending`` does for a clerk's change), then one UPDATE moves the state on. The UPDATE
    only takes records whose version in force is now in history, so a record that became due
    between the two statements (a concurrent delivery) waits for the next run rather than
    changing without its history row. Records 异议中 wait for their objection to be decided.
    """
    # The earliest end still published bounds the range from below. In steady state it is
    # yesterday's day, so the planner (which cannot know that ended records are rarely still
    # published) estimates a few rows and walks ix_records_state_publicity_max_end instead of
    # scanning the table; and a day with nothing due costs one index probe.
    first = conn.execute(
        select(func.min(records.c.publicity_max_end)).where(records.c.state == PUBLISHED)
    ).scalar()
    if first is None or first >= run.as_of:
        return {"expired": 0}
    due = and_(
        records.c.state == PUBLISHED,
        records.c.publicity_max_end >= first,
        records.c.publicity_max_end < run.as_of,
    )
    conn.execute(archive_versions(due, ended_at=run.now, batch_id=None, change=EXPIRY_CHANGE))
    stmt = update(records).where(due)
    if not is_sqlite(conn):
        # SQLite has one writer at a time (BEGIN IMMEDIATE): nothing can become due in between,
        # and the check would cost a fifth of the run on a backlog.
        stmt = stmt.where(
            exists().where(
                record_versions.c.record_id == records.c.id,
                record_versions.c.version == records.c.version,
            )
        )
    expired = conn.execute(
        stmt.values(
            state=EXPIRED,
            version=records.c.version + 1,
            updated_at=literal(run.now, records.c.updated_at.type),
        )
    ).rowcount
    return {"expired": expired}
