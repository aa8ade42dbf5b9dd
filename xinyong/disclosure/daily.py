"""`xinyong daily`: the platform's once-a-day work, as a list of steps.

Each step is set-based SQL over the whole table (never a loop over rows), inside the caller's
transaction, and idempotent: run twice for the same day, the second run changes nothing.
The run appends one audit event (``daily.run``) with every step's counts.

Adding a step (e.g. list expiry, by the lists package):

1. write ``def my_step(conn: Connection, run: DailyRun) -> dict[str, int]`` in your package:
   it changes what is due on ``run.as_of`` and returns its counts (``{"exited": 12}``);
   record state changes in history as ``expire_publicity`` does;
2. add one line ``("lists.expiry", "xinyong.lists.expiry:my_step")`` to ``DAILY_STEPS``.

Steps are named by import path and imported when the run starts, so that this module does not
import every domain (and no domain needs to import this one to register).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, and_, exists, func, literal, select, update

from xinyong.audit import service as audit
from xinyong.db import is_sqlite
from xinyong.disclosure.view import today
from xinyong.records.models import record_versions, records
from xinyong.records.states import EXPIRED, PUBLISHED
from xinyong.records.store import archive_versions
from xinyong.settings import get_settings

EXPIRY_CHANGE = "期满停止公示"


@dataclass(frozen=True)
class DailyRun:
    as_of: date  # the day the run is for: ends before it are past
    now: datetime  # the time written on changed rows and history (UTC)
    actor: str
    role: str = "operator"
    source: str | None = None
    # the catalogue in use (the working-day calendar lives in it)
    catalog_dir: Path = field(default_factory=lambda: get_settings().catalog_dir)
    # what a step tells the operators (printed by the command, kept in the audit event)
    warnings: list[str] = field(default_factory=list)


DailyStep = Callable[[Connection, DailyRun], dict[str, int]]

# (step name, "module:function"), run in this order.
DAILY_STEPS: list[tuple[str, str]] = [
    ("publicity.expiry", "xinyong.disclosure.daily:expire_publicity"),
    ("lists.expiry", "xinyong.lists.expiry:expire_lists"),
    ("calendar.provisional", "xinyong.checks.deadline:recompute_step"),
    ("calendar.next_year", "xinyong.workdays.alerts:calendar_step"),
]


@dataclass
class DailyResult:
    as_of: date
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "steps": self.steps, "warnings": self.warnings}


# the day it is for the platform's users (the rules count days in Beijing time)
beijing_today = today


def _resolve(path: str) -> DailyStep:
    module, _, name = path.partition(":")
    return cast(DailyStep, getattr(importlib.import_module(module), name))


def run_daily(
    conn: Connection,
    *,
    as_of: date,
    actor: str,
    role: str = "operator",
    source: str | None = None,
    now: datetime | None = None,
    catalog_dir: Path | None = None,
) -> DailyResult:
    """Run every daily step for ``as_of``; the caller commits."""
    run = DailyRun(
        as_of,
        now or datetime.now(UTC),
        actor,
        role,
        source,
        catalog_dir=catalog_dir or get_settings().catalog_dir,
    )
    result = DailyResult(as_of)
    for name, path in DAILY_STEPS:
        result.steps[name] = _resolve(path)(conn, run)
    result.warnings = run.warnings
    audit.append(
        conn,
        actor=actor,
        role=role,
        action="daily.run",
        source=source,
        detail=result.as_dict(),
    )
    return result


def expire_publicity(conn: Connection, run: DailyRun) -> dict[str, int]:
    """Records 公示中 whose last day of publicity (publicity_max_end) is before ``as_of``
    become 期满停止公示: archived, kept, out of public view (view.PUBLIC_STATES).

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
