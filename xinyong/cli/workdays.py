"""`xinyong calendar show YEAR` and `xinyong calendar add-workdays DATE N`: the working-day
calendar (工作日历) the platform counts deadlines on."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.cli.context import fail, out, settings
from xinyong.errors import XinyongError
from xinyong.workdays.calendar import (
    WEEKDAYS,
    WorkCalendar,
    YearSource,
    calendar_dir,
    work_calendar,
)

app = typer.Typer(help="工作日历：法定节假日、调休上班日与工作日计算", no_args_is_help=True)


def _calendar(as_json: bool) -> WorkCalendar:
    try:
        return work_calendar(calendar_dir(settings().catalog_dir))
    except XinyongError as exc:
        fail(exc, as_json=as_json)


def _day(d: date) -> str:
    return f"{d.isoformat()}（周{WEEKDAYS[d.weekday()]}）"


@app.command("show")
def show_command(
    year: Annotated[int, typer.Argument(help="年份，如 2026", min=1900, max=2999)],
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON")] = False,
) -> None:
    """一年的法定节假日、调休上班日、工作日天数及来源通知；未知年份如实说明。"""
    cal = _calendar(as_json)
    answer = cal.describe(year)
    if as_json:
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        return
    source = cal.source(year)
    if source is YearSource.UNKNOWN:
        out.print(
            f"{year} 年的工作日历未知：没有 catalog/calendar/{year}.yaml，chinese_calendar 也不含"
            f"该年。落在该年的工作日按周一至周五计算，结果标为“暂定”（共 "
            f"{answer['working_days']} 个周一至周五）。",
            highlight=False,
        )
        return
    if source is YearSource.LIBRARY:
        out.print(
            f"{year} 年：按 chinese_calendar 软件包计算，工作日 {answer['working_days']} 天"
            f"（没有 catalog/calendar/{year}.yaml）。",
            highlight=False,
        )
        return
    y = cal.years[year]
    out.print(f"{year} 年工作日历：工作日 {answer['working_days']} 天", highlight=False)
    out.print(f"来源：{escape(y.notice.cite())}", highlight=False)
    if y.notice.url:
        out.print(f"      {escape(y.notice.url)}", highlight=False)
    table = Table("节日", "放假", "天数", "调休上班")
    for h in y.holidays:
        span = _day(h.start) if h.start == h.end else f"{_day(h.start)} 至 {_day(h.end)}"
        table.add_row(
            escape(h.name), span, str(len(h.days())), "、".join(_day(w) for w in h.workdays)
        )
    out.print(table)


@app.command("add-workdays")
def add_workdays_command(
    start: Annotated[str, typer.Argument(help="起算日期 YYYY-MM-DD（当天不计）")],
    n: Annotated[int, typer.Argument(help="工作日数", min=0, max=3650)],
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON")] = False,
) -> None:
    """起算日期之后第 N 个工作日；途经未知年份时按周一至周五计算并标为暂定。"""
    try:
        day = date.fromisoformat(start.strip())
    except ValueError:
        fail(
            XinyongError("DATE_INVALID", f"日期“{start}”无效，应写作 YYYY-MM-DD"),
            as_json=as_json,
        )
    found = _calendar(as_json).add_working_days(day, n)
    if as_json:
        answer = {
            "start": day.isoformat(),
            "working_days": n,
            "date": found.day.isoformat(),
            "provisional": found.provisional,
            "unknown_years": list(found.unknown_years),
        }
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        return
    out.print(f"{day.isoformat()} 之后第 {n} 个工作日：{_day(found.day)}", highlight=False, end="")
    if found.provisional:
        years = "、".join(str(y) for y in found.unknown_years)
        out.print(f"（暂定：{years} 年的工作日历未知，按周一至周五计算）", highlight=False, end="")
    out.print("", highlight=False)
