"""The feedback deadline (反馈期限): the check date plus N working days (工作日), counted on the
platform's one working-day calendar (``xinyong.workdays``).

A deadline counted through a year the calendar does not know yet is stored with
``deadline_provisional`` set and shown as 暂定; ``recompute_provisional`` (a step of
``xinyong daily``) counts those again once the year's calendar file has been added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from xinyong.checks.models import checks
from xinyong.daily import DailyRun
from xinyong.workdays.calendar import WorkCalendar, WorkingDate, calendar_dir, work_calendar


def feedback_deadline(checked_on: date, working_days: int, calendar: WorkCalendar) -> WorkingDate:
    """The last day for feedback: ``working_days`` working days after ``checked_on``."""
    return _deadline(checked_on, working_days, calendar)


@lru_cache(maxsize=256)
def _deadline(on: date, working_days: int, calendar: WorkCalendar) -> WorkingDate:
    # computed once per day and calendar: a bulk check and a busy day ask the same question
    return calendar.add_working_days(on, working_days)


@dataclass(frozen=True)
class FeedbackDue:
    """A check's feedback deadline as stored: the day, whether it is 暂定, the count."""

    day: date | None = None  # None: no measure needs feedback
    provisional: bool = False
    working_days: int | None = None

    def columns(self) -> dict[str, Any]:
        """The ``checks`` columns of the deadline (``DUE_COLUMNS``)."""
        return dict(zip(DUE_COLUMNS, (self.day, self.provisional, self.working_days), strict=True))


# The columns ``FeedbackDue.columns`` fills (the single check's insert is compiled with them).
DUE_COLUMNS = ("deadline", "deadline_provisional", "deadline_days")


def feedback_due(on: date, working_days: int, catalog_dir: Path, *, applies: bool) -> FeedbackDue:
    """The deadline of a check made on ``on``, on the calendar of the catalogue in use."""
    if not applies:
        return FeedbackDue()
    found = feedback_deadline(on, working_days, work_calendar(calendar_dir(catalog_dir)))
    return FeedbackDue(found.day, found.provisional, working_days)


def recompute_provisional(conn: Connection, calendar: WorkCalendar) -> dict[str, int]:
    """Count provisional deadlines again on ``calendar``: those whose years it now knows
    become final (possibly another day), the others stay provisional.

    One UPDATE per distinct (check date, working days): there are a few per day, whatever the
    number of checks. A deadline stored before its count was (``deadline_days`` NULL, revision
    0013) gets the count that gives its stored day on the calendar it was made with:
    ``chinese_calendar`` alone, Monday to Friday past it.
    """
    made_with = WorkCalendar()
    pending = checks.c.deadline_provisional.is_(True)
    groups = conn.execute(
        select(checks.c.checked_on, checks.c.deadline_days, checks.c.deadline, func.count())
        .where(pending, checks.c.deadline.is_not(None))
        .group_by(checks.c.checked_on, checks.c.deadline_days, checks.c.deadline)
    ).all()
    final = moved = still = 0
    for on, days, old, n in groups:
        count = days if days is not None else made_with.working_days_between(on, old)
        found = calendar.add_working_days(on, count)
        conn.execute(
            update(checks)
            .where(
                and_(
                    pending,
                    checks.c.checked_on == on,
                    checks.c.deadline == old,
                    checks.c.deadline_days.is_(None)
                    if days is None
                    else checks.c.deadline_days == days,
                )
            )
            .values(deadline=found.day, deadline_provisional=found.provisional, deadline_days=count)
        )
        if found.provisional:
            still += n
        else:
            final += n
            moved += n if found.day != old else 0
    return {"confirmed": final, "changed": moved, "still_provisional": still}


def recompute_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """`xinyong daily`: provisional deadlines counted again on today's calendar files."""
    return recompute_provisional(conn, work_calendar(calendar_dir(run.catalog_dir)))
