"""Public statistics of cases per department (办件统计), in the manner of the US consumer
complaint database: cases received, answered in time (%), median working days to an answer,
outcomes, per month and per kind. Counts only: no case number, subject or person appears.

"Answered" is a case closed with an answer (any outcome but a withdrawal: a withdrawn case was
never answered). "In time" is an answer on or before the case's deadline (``closed_on_time``,
fixed when it closed). Days are working days from receipt to the answer, on the calendar every
deadline is counted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import Connection, select

from xinyong.cases import states
from xinyong.cases.kinds import KINDS
from xinyong.cases.models import cases
from xinyong.clock import CHINA, aware
from xinyong.workdays.calendar import WorkCalendar

PLATFORM = "platform"  # the key of the platform's own queue (信用办)


@dataclass
class Tally:
    received: int = 0
    open: int = 0
    answered: int = 0
    in_time: int = 0
    withdrawn: int = 0
    days: list[int] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, row: Any, days: int | None) -> None:
        self.received += 1
        if row.state in states.OPEN_STATES:
            self.open += 1
        elif row.outcome == "withdrawn":
            self.withdrawn += 1
        else:
            self.answered += 1
            self.in_time += 1 if row.closed_on_time else 0
            if days is not None:
                self.days.append(days)
        if row.outcome:
            label = KINDS[row.kind].outcome_label(row.outcome)
            self.outcomes[label] = self.outcomes.get(label, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "open": self.open,
            "answered": self.answered,
            "withdrawn": self.withdrawn,
            "answered_in_time": self.in_time,
            "in_time_percent": (
                round(100 * self.in_time / self.answered, 1) if self.answered else None
            ),
            "median_working_days": median(self.days) if self.days else None,
            "outcomes": dict(sorted(self.outcomes.items(), key=lambda kv: -kv[1])),
        }


def statistics(
    conn: Connection,
    calendar: WorkCalendar,
    *,
    dept: str | None = None,
    kind: str | None = None,
    since: date | None = None,
) -> dict[str, Any]:
    """Totals, per department, per kind and per month of receipt; ``dept`` (a USCC or
    ``platform``) and ``kind`` narrow them."""
    q = select(
        cases.c.kind,
        cases.c.dept_uscc,
        cases.c.state,
        cases.c.outcome,
        cases.c.received_on,
        cases.c.closed_at,
        cases.c.closed_on_time,
    )
    if dept == PLATFORM:
        q = q.where(cases.c.dept_uscc.is_(None))
    elif dept:
        q = q.where(cases.c.dept_uscc == dept)
    if kind:
        q = q.where(cases.c.kind == kind)
    if since:
        q = q.where(cases.c.received_on >= since)
    total = Tally()
    by_dept: dict[str, Tally] = {}
    by_kind: dict[str, Tally] = {}
    by_month: dict[str, Tally] = {}
    for row in conn.execute(q.order_by(cases.c.received_on)).all():
        days = None
        closed = aware(row.closed_at)
        if closed is not None:
            answered_on = closed.astimezone(CHINA).date()
            days = calendar.working_days_between(row.received_on, answered_on)
        total.add(row, days)
        by_dept.setdefault(row.dept_uscc or PLATFORM, Tally()).add(row, days)
        by_kind.setdefault(row.kind, Tally()).add(row, days)
        by_month.setdefault(f"{row.received_on:%Y-%m}", Tally()).add(row, days)
    return {
        "total": total.as_dict(),
        "departments": {k: t.as_dict() for k, t in by_dept.items()},
        "kinds": {k: t.as_dict() for k, t in by_kind.items()},
        "months": {k: t.as_dict() for k, t in sorted(by_month.items())},
    }
