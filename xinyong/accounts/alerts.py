"""Query-volume alerts (查询量异常预警): an account that queries far more subjects than usual.

A clerk who looks up thirty companies a day and suddenly looks up six hundred is either
doing a campaign or copying the database; either way an operator should know (Henan art. 25
forbids querying beyond one's authority). From the read events of ``xinyong.audit.queries``,
per account and Beijing day, the number of distinct subjects queried; an alert when today's
number exceeds ``settings.query_alert_factor`` times the account's usual daily number and is
at least ``settings.query_alert_min_subjects``.

The usual number is the median over the days of the previous ``HISTORY_DAYS`` on which the
account queried at all, so that weekends and holidays do not drag it to zero, and never less
than ``USUAL_FLOOR``: a new account's first big day is measured against the floor.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from xinyong import clock
from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.audit.queries import READ_ACTIONS
from xinyong.clock import CHINA
from xinyong.settings import Settings

HISTORY_DAYS = 30
USUAL_FLOOR = 1.0


@dataclass(frozen=True)
class Alert:
    actor: str  # the account's name, as in the audit log
    role: str
    dept_uscc: str | None
    day: date  # Beijing date
    subjects: int  # distinct subjects queried that day
    usual: float  # the usual daily number
    threshold: float  # what ``subjects`` exceeded
    active_days: int  # days with queries among the previous HISTORY_DAYS

    @property
    def role_label(self) -> str:
        try:
            return Role(self.role).label
        except ValueError:
            return self.role

    @property
    def message(self) -> str:
        return (
            f"{self.actor}（{self.role_label}）{self.day.isoformat()} 查询了 {self.subjects} 个"
            f"信用主体，约为平日（{self.usual:g} 个）的 {self.subjects / self.usual:.1f} 倍"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "role": self.role,
            "role_label": self.role_label,
            "dept_uscc": self.dept_uscc,
            "day": self.day.isoformat(),
            "subjects": self.subjects,
            "usual": self.usual,
            "threshold": self.threshold,
            "active_days": self.active_days,
            "message": self.message,
        }


def day_start(day: date) -> datetime:
    """The start of a Beijing day, in UTC."""
    return datetime.combine(day, time(), tzinfo=CHINA).astimezone(UTC)


def daily_counts(
    conn: Connection, as_of: datetime, days: int = HISTORY_DAYS
) -> dict[str, dict[int, tuple[int, str, str | None]]]:
    """Per account active on ``as_of``'s Beijing day: {days ago: (distinct subjects, role,
    department)} for that day and the ``days`` before it, up to ``as_of``.

    One grouped query over the window. The Beijing day of each event comes from a CASE over
    the days' UTC start times rather than a date function, which SQLite and PostgreSQL spell
    differently; it also keeps the condition a plain range on the indexed ``at``.
    """
    end = as_of.astimezone(UTC)
    today = as_of.astimezone(CHINA).date()
    starts = [day_start(today - timedelta(days=i)) for i in range(days + 1)]
    ev = audit_events.c
    reads = (
        ev.action.in_(sorted(READ_ACTIONS)),
        ev.outcome == "ok",
        ev.subject_id.is_not(None),
        # The anonymous public is one actor for everybody: rate limits guard it instead.
        ev.role != Role.PUBLIC.value,
        ev.at <= end,
    )
    # Not correlated with the outer query, though it reads the same table.
    active_today = select(ev.actor).where(*reads, ev.at >= starts[0]).distinct().correlate(None)
    days_ago = case(*((ev.at >= start, i) for i, start in enumerate(starts)), else_=days + 1)
    # The CASE is computed in a subquery and grouped outside it: PostgreSQL does not see two
    # copies of a parameterised expression as the same grouping key.
    window = (
        select(
            ev.actor,
            ev.role,
            ev.dept_uscc,
            ev.subject_id,
            days_ago.label("days_ago"),
        )
        .where(*reads, ev.at >= starts[-1], ev.actor.in_(active_today))
        .subquery()
    )
    grouped = select(
        window.c.actor,
        window.c.days_ago,
        func.count(window.c.subject_id.distinct()),
        func.max(window.c.role),
        func.max(window.c.dept_uscc),
    ).group_by(window.c.actor, window.c.days_ago)
    counts: dict[str, dict[int, tuple[int, str, str | None]]] = defaultdict(dict)
    for actor, ago, n, role, dept in conn.execute(grouped):
        counts[actor][int(ago)] = (int(n), role, dept)
    return counts


def query_alerts(
    conn: Connection, settings: Settings, *, as_of: datetime | None = None
) -> list[Alert]:
    """Alerts for ``as_of``'s Beijing day (default today, up to now), biggest burst first."""
    moment = clock.now(conn) if as_of is None else as_of
    if moment.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    today = moment.astimezone(CHINA).date()
    alerts = []
    for actor, per_day in daily_counts(conn, moment).items():
        if 0 not in per_day:
            continue
        subjects, role, dept = per_day[0]
        history = [n for ago, (n, _, _) in per_day.items() if 1 <= ago <= HISTORY_DAYS]
        usual = max(float(statistics.median(history)) if history else 0.0, USUAL_FLOOR)
        threshold = settings.query_alert_factor * usual
        if subjects > threshold and subjects >= settings.query_alert_min_subjects:
            alerts.append(Alert(actor, role, dept, today, subjects, usual, threshold, len(history)))
    alerts.sort(key=lambda a: (-a.subjects / a.usual, a.actor))
    return alerts
