"""Provisional (暂定) case deadlines counted again once the year's calendar is known.

A case received late in a year may have its deadline counted into a year whose holiday notice
has not been published: it is then counted Monday to Friday and stored provisional. Because
every deadline is ``received_on`` plus ``deadline_days`` plus ``paused_days`` working days (and
the department's part ``dept_notified_on`` plus ``dept_deadline_days``), it can be counted again
exactly; a step of ``xinyong daily`` does so on the calendar files of the day.
"""

from __future__ import annotations

from sqlalchemy import Connection, or_, select, update

from xinyong.cases.models import cases
from xinyong.cases.states import OPEN_STATES
from xinyong.daily import DailyRun
from xinyong.workdays.calendar import WorkCalendar, calendar_dir, work_calendar


def recompute_provisional(conn: Connection, calendar: WorkCalendar) -> dict[str, int]:
    """Count every open case's provisional deadlines again on ``calendar``."""
    rows = conn.execute(
        select(
            cases.c.id,
            cases.c.received_on,
            cases.c.deadline_days,
            cases.c.paused_days,
            cases.c.deadline,
            cases.c.dept_notified_on,
            cases.c.dept_deadline_days,
            cases.c.dept_deadline,
            cases.c.deadline_provisional,
            cases.c.dept_deadline_provisional,
        ).where(
            cases.c.state.in_(OPEN_STATES),
            or_(
                cases.c.deadline_provisional.is_(True),
                cases.c.dept_deadline_provisional.is_(True),
            ),
        )
    ).all()
    confirmed = changed = still = 0
    for r in rows:
        values: dict[str, object] = {}
        if r.deadline_provisional:
            due = calendar.add_working_days(r.received_on, r.deadline_days + r.paused_days)
            values |= {"deadline": due.day, "deadline_provisional": due.provisional}
            changed += due.day != r.deadline
        if r.dept_deadline_provisional and r.dept_notified_on and r.dept_deadline_days:
            # pauses moved the department's day by as many working days as the case's
            dept_due = calendar.add_working_days(
                r.dept_notified_on, r.dept_deadline_days + r.paused_days
            )
            values |= {
                "dept_deadline": dept_due.day,
                "dept_deadline_provisional": dept_due.provisional,
            }
        conn.execute(update(cases).where(cases.c.id == r.id).values(**values))
        if values.get("deadline_provisional") or values.get("dept_deadline_provisional"):
            still += 1
        else:
            confirmed += 1
    return {"confirmed": confirmed, "changed": changed, "still_provisional": still}


def recompute_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """`xinyong daily`: provisional case deadlines counted again on today's calendar files."""
    return recompute_provisional(conn, work_calendar(calendar_dir(run.catalog_dir)))
