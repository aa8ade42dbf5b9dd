"""The operators' reminder that next year's working-day calendar is missing (工作日历缺失提醒).

The State Council publishes next year's holiday schedule in November as a rule (the 2025
schedule on 12 November 2024, the 2026 one on 4 November 2025). From 1 November (Beijing date)
until next year's calendar is known, ``xinyong daily`` prints the reminder, records it in its
audit event, and the operators' page shows it: every deadline reaching into next year is
provisional (暂定) meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from xinyong.clock import today
from xinyong.daily import DailyRun
from xinyong.workdays.calendar import WorkCalendar, calendar_dir, work_calendar

if TYPE_CHECKING:
    from sqlalchemy import Connection


REMIND_FROM_MONTH = 11


@dataclass(frozen=True)
class CalendarAlert:
    year: int  # the year without a calendar
    day: date  # the Beijing date the alert is for

    @property
    def message(self) -> str:
        y = self.year
        return (
            f"{y} 年的工作日历尚未添加：国务院办公厅公布《国务院办公厅关于{y}年部分节假日安排的"
            f"通知》后，请按通知写入 catalog/calendar/{y}.yaml（xinyong calendar show {y - 1} "
            f"可参照格式）。在此之前，落在 {y} 年的反馈期限按周一至周五计算并标为“暂定”，"
            "添加后由 xinyong daily 重新计算。"
        )

    def as_dict(self) -> dict[str, object]:
        return {"year": self.year, "day": self.day.isoformat(), "message": self.message}


def next_year_alert(calendar: WorkCalendar, on: date) -> CalendarAlert | None:
    """The reminder for ``on``: from 1 November, when next year is not known."""
    if on.month < REMIND_FROM_MONTH or calendar.is_known(on.year + 1):
        return None
    return CalendarAlert(on.year + 1, on)


def calendar_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """`xinyong daily`: remind operators when next year's calendar is missing."""
    alert = next_year_alert(work_calendar(calendar_dir(run.catalog_dir)), today(conn))
    if alert is not None:
        run.warnings.append(alert.message)
    return {"next_year_missing": int(alert is not None)}
