"""Working days (工作日) in China, and the date N working days after another.

Which days are worked is set each year by the State Council General Office's notice on the
next year's public holidays (国务院办公厅关于YYYY年部分节假日安排的通知), usually published in
November: the days off (放假) and the weekends worked instead (调休上班). A day is decided by,
in order:

1. ``catalog/calendar/YYYY.yaml``, one file per year transcribing one notice (with its document
   number, date and address), so that an operator adds next year the day the notice appears,
   without waiting for a new release of any library; a year's file decides every day of that
   year (it overrides the library);
2. the ``chinese_calendar`` package, for the years it knows and no file covers;
3. Monday to Friday, for a year neither knows: the answer is then **provisional** (暂定), and a
   deadline computed through such a day says so wherever it is shown and stored, until the
   year's file is added and the deadline is computed again.

A broken file is refused when the calendar is loaded, naming the file and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from xinyong import yamlio
from xinyong.errors import CatalogError

WEEKDAYS = "一二三四五六日"


class YearSource(StrEnum):
    """Where the working days of a year come from."""

    NOTICE = "notice"  # a file of catalog/calendar/
    LIBRARY = "library"  # the chinese_calendar package
    UNKNOWN = "unknown"  # neither: Monday to Friday, provisional

    @property
    def label(self) -> str:
        return {
            YearSource.NOTICE: "国务院办公厅通知（工作日历文件）",
            YearSource.LIBRARY: "chinese_calendar 软件包",
            YearSource.UNKNOWN: "未知年份：暂按周一至周五计算（暂定）",
        }[self]


@dataclass(frozen=True)
class Notice:
    """The State Council General Office notice a year's file transcribes."""

    title: str
    document_no: str  # 文号, e.g. 国办发明电〔2025〕7号
    issued_on: date
    url: str | None = None

    def cite(self) -> str:
        d = self.issued_on
        return f"《{self.title}》（{self.document_no}，{d.year}年{d.month}月{d.day}日）"


@dataclass(frozen=True)
class Holiday:
    """One holiday of a notice: the days off, and the weekend days worked for it (调休上班)."""

    name: str
    start: date
    end: date
    workdays: tuple[date, ...] = ()

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class YearCalendar:
    year: int
    notice: Notice
    holidays: tuple[Holiday, ...]
    path: Path

    @property
    def days_off(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.days())

    @property
    def weekends_worked(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.workdays)


@dataclass(frozen=True)
class WorkingDate:
    """A date found by counting working days; ``provisional`` when the count went through a
    year that neither a calendar file nor the library knows (``unknown_years``)."""

    day: date
    provisional: bool = False
    unknown_years: tuple[int, ...] = ()

    def label(self) -> str:
        return f"{self.day.isoformat()}（暂定）" if self.provisional else self.day.isoformat()


@dataclass(eq=False)
class WorkCalendar:
    """The calendar files of one directory, over ``chinese_calendar``. Compared by identity,
    so that a deadline can be cached per calendar."""

    years: dict[int, YearCalendar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # every day a file decides explicitly (a file may name a day of an adjacent year, as
        # a notice may arrange the weekend before New Year's Day)
        self._off: set[date] = set()
        self._worked: set[date] = set()
        for y in self.years.values():
            self._off |= y.days_off
            self._worked |= y.weekends_worked

    def source(self, year: int) -> YearSource:
        if year in self.years:
            return YearSource.NOTICE
        if _library_knows(year):
            return YearSource.LIBRARY
        return YearSource.UNKNOWN

    def is_known(self, year: int) -> bool:
        return self.source(year) is not YearSource.UNKNOWN

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is worked (for an unknown year: Monday to Friday)."""
        if day in self._worked:
            return True
        if day in self._off:
            return False
        if day.year in self.years:
            return day.weekday() < 5
        known = _library_year(day.year)
        if known is not None:
            return day in known
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> WorkingDate:
        """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        left = n
        unknown: set[int] = set()
        while left > 0:
            day += timedelta(days=1)
            if not self.is_known(day.year):
                unknown.add(day.year)
            if self.is_working_day(day):
                left -= 1
        return WorkingDate(day, bool(unknown), tuple(sorted(unknown)))

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall after ``start`` up to and including ``end``."""
        n = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            n += self.is_working_day(day)
        return n

    def working_days_in(self, year: int) -> int:
        return self.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))

    def describe(self, year: int) -> dict[str, Any]:
        """A year as ``xinyong calendar show`` tells it: its source, notice, holidays and
        adjusted working weekends, and its number of working days."""
        source = self.source(year)
        answer: dict[str, Any] = {
            "year": year,
            "source": source.value,
            "source_label": source.label,
            "known": source is not YearSource.UNKNOWN,
            "working_days": self.working_days_in(year),
        }
        if source is YearSource.NOTICE:
            y = self.years[year]
            answer["notice"] = {
                "title": y.notice.title,
                "document_no": y.notice.document_no,
                "issued_on": y.notice.issued_on.isoformat(),
                "url": y.notice.url,
            }
            answer["file"] = str(y.path)
            answer["holidays"] = [
                {
                    "name": h.name,
                    "start": h.start.isoformat(),
                    "end": h.end.isoformat(),
                    "days": len(h.days()),
                    "workdays": [w.isoformat() for w in h.workdays],
                }
                for h in y.holidays
            ]
        return answer


# -- chinese_calendar ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _library_year(year: int) -> frozenset[date] | None:
    """The working days of ``year`` by chinese_calendar, or None when it does not know it."""
    if not _library_knows(year):
        return None
    day, out = date(year, 1, 1), set()
    while day.year == year:
        if chinese_calendar.is_workday(day):
            out.add(day)
        day += timedelta(days=1)
    return frozenset(out)


@lru_cache(maxsize=64)
def _library_knows(year: int) -> bool:
    # the package raises NotImplementedError for a day outside the years it holds; a year it
    # holds is held whole (it is made from the same notices)
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return False
    return True


# -- loading the files ---------------------------------------------------------------------------


def _fail(path: Path, problem: str) -> CatalogError:
    return CatalogError("CALENDAR_INVALID", f"工作日历文件 {path}：{problem}")


def _date(path: Path, value: Any, what: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(path, f"{what}“{value}”不是 YYYY-MM-DD 格式的日期")


def _text(path: Path, raw: dict[str, Any], key: str, what: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"缺少{what}（{key}）")
    return value.strip()


def _near(year: int, day: date) -> bool:
    """A notice arranges its own year, and at most the turn of the year next to it."""
    return (
        day.year == year
        or (day.year == year - 1 and day.month == 12)
        or (day.year == year + 1 and day.month == 1)
    )


class _Loader(yamlio.SafeLoader):  # type: ignore[misc,valid-type]
    """YAML without its own date parsing: a date is read as text and checked here, so that
    2027-13-01 is answered with the file and the holiday, not a bare ValueError."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yamlio.SafeLoader.yaml_implicit_resolvers.items()
}


def load_year(path: Path) -> YearCalendar:
    """One ``YYYY.yaml`` file, checked: refused with the file and the problem named."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _fail(path, f"无法读取或解析：{exc}") from exc
    if not isinstance(raw, dict):
        raise _fail(path, "内容应为一个映射（year、source、holidays）")
    year = raw.get("year")
    if not isinstance(year, int) or str(year) != path.stem:
        raise _fail(path, f"year（{year}）须为整数，且与文件名 {path.stem} 一致")
    src = raw.get("source")
    if not isinstance(src, dict):
        raise _fail(path, "缺少来源通知（source：title、document_no、issued_on）")
    title = _text(path, src, "title", "通知标题")
    if str(year) not in title:
        raise _fail(path, f"来源通知“{title}”不是 {year} 年的节假日安排")
    notice = Notice(
        title=title,
        document_no=_text(path, src, "document_no", "通知文号"),
        issued_on=_date(path, src.get("issued_on"), "发布日期"),
        url=str(src["url"]).strip() if src.get("url") else None,
    )
    items = raw.get("holidays")
    if not isinstance(items, list) or not items:
        raise _fail(path, "holidays 应为非空列表")
    holidays: list[Holiday] = []
    seen: dict[date, str] = {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise _fail(path, f"第 {n} 个节日应为映射（name、start、end、workdays）")
        name = _text(path, item, "name", f"第 {n} 个节日的名称")
        where = f"第 {n} 个节日“{name}”"
        start = _date(path, item.get("start"), f"{where}的开始日期")
        end = _date(path, item.get("end"), f"{where}的结束日期")
        if end < start:
            raise _fail(path, f"{where}的结束日期 {end} 早于开始日期 {start}")
        worked = item.get("workdays") or []
        if not isinstance(worked, list):
            raise _fail(path, f"{where}的 workdays 应为日期列表")
        h = Holiday(name, start, end, tuple(_date(path, w, f"{where}的调休上班日") for w in worked))
        for d in h.days():
            if not _near(year, d):
                raise _fail(path, f"{where}的放假日期 {d} 不在 {year} 年")
            if d in seen:
                raise _fail(path, f"{d} 同时列在“{seen[d]}”和{where}中")
            seen[d] = name
        for w in h.workdays:
            if not _near(year, w):
                raise _fail(path, f"{where}的调休上班日 {w} 不在 {year} 年")
            if w.weekday() < 5:
                raise _fail(
                    path, f"{where}的调休上班日 {w} 是星期{WEEKDAYS[w.weekday()]}，应为周六或周日"
                )
            if w in seen:
                raise _fail(path, f"{w} 既是放假日（“{seen[w]}”）又是调休上班日")
            seen[w] = name
        holidays.append(h)
    return YearCalendar(year, notice, tuple(holidays), path)


def load_work_calendar(directory: Path) -> WorkCalendar:
    """Every ``YYYY.yaml`` of ``directory`` (none, or no directory: the library alone)."""
    years: dict[int, YearCalendar] = {}
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix not in (".yaml", ".yml"):
                continue
            if not (path.stem.isdigit() and len(path.stem) == 4):
                raise _fail(path, "文件名应为四位年份，如 2027.yaml")
            y = load_year(path)
            if y.year in years:
                raise _fail(path, f"{y.year} 年已由 {years[y.year].path.name} 给出")
            years[y.year] = y
    return WorkCalendar(years)


def work_calendar(directory: Path) -> WorkCalendar:
    """The calendar of ``directory``, loaded again when a file is added, changed or removed
    (an operator adds next year's file to a running platform)."""
    return _cached(directory, _signature(directory))


def calendar_dir(catalog_dir: Path) -> Path:
    """The calendar lives in the catalogue, in ``<catalog>/calendar``."""
    return catalog_dir / "calendar"


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return ()
    return tuple(
        sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries if e.is_file())
    )


@lru_cache(maxsize=8)
def _cached(directory: Path, signature: tuple[tuple[str, int, int], ...]) -> WorkCalendar:
    return load_work_calendar(directory)
