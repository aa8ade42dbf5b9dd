"""The feedback deadline: the check date plus N working days (工作日), counting Chinese public
holidays and the adjusted working weekends (调休) with ``chinese_calendar``."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # years the calendar does not cover yet (published each November): Monday to Friday
        return day.weekday() < 5


def feedback_deadline(checked_on: date, working_days: int) -> date:
    """The last day for feedback: ``working_days`` working days after ``checked_on``."""
    day = checked_on
    left = working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
