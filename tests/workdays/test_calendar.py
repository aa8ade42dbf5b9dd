"""The working-day calendar: the State Council notices as files, over chinese_calendar, and
Monday to Friday (provisional) for a year neither knows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from xinyong.errors import CatalogError
from xinyong.workdays.calendar import (
    YearSource,
    calendar_dir,
    load_work_calendar,
    work_calendar,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cal_dir(catalog_dir: Path) -> Path:
    return calendar_dir(catalog_dir)


def test_bundled_years_cite_their_notice() -> None:
    cal = load_work_calendar(calendar_dir(ROOT / "catalog"))
    assert cal.years[2025].notice.document_no == "国办发明电〔2024〕12号"
    assert cal.years[2025].notice.issued_on == date(2024, 11, 12)
    assert cal.years[2026].notice.document_no == "国办发明电〔2025〕7号"
    assert cal.years[2026].notice.issued_on == date(2025, 11, 4)
    assert cal.source(2026) is YearSource.NOTICE
    assert cal.source(2024) is YearSource.LIBRARY
    assert cal.source(2027) is YearSource.UNKNOWN


@pytest.mark.parametrize("year", [2025, 2026])
def test_files_agree_with_chinese_calendar_day_by_day(year: int) -> None:
    # two transcriptions of the same notice, made independently: a typo in either shows here
    cal = load_work_calendar(calendar_dir(ROOT / "catalog"))
    day = date(year, 1, 1)
    while day.year == year:
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert cal.working_days_in(year) == 248


def test_spring_festival_with_adjusted_weekends() -> None:
    cal = load_work_calendar(calendar_dir(ROOT / "catalog"))
    # 2025: 28 January (除夕) to 4 February off; Sunday 26 January and Saturday 8 February worked
    assert cal.is_working_day(date(2025, 1, 26)) and cal.is_working_day(date(2025, 2, 8))
    assert not any(cal.is_working_day(date(2025, 1, 28) + timedelta(days=i)) for i in range(8))
    # Friday 24 January + 1 → Sunday 26 January (调休上班); + 3 → 5 February
    assert cal.add_working_days(date(2025, 1, 24), 1).day == date(2025, 1, 26)
    assert cal.add_working_days(date(2025, 1, 24), 3).day == date(2025, 2, 5)
    # 2026: 15 to 23 February off; Saturdays 14 and 28 February worked
    assert cal.is_working_day(date(2026, 2, 14)) and cal.is_working_day(date(2026, 2, 28))
    assert not cal.is_working_day(date(2026, 2, 23))  # a Monday, still the holiday
    assert cal.add_working_days(date(2026, 2, 13), 1).day == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1).day == date(2026, 2, 24)
    assert not cal.add_working_days(date(2026, 2, 14), 1).provisional


def test_national_day_with_adjusted_weekends() -> None:
    cal = load_work_calendar(calendar_dir(ROOT / "catalog"))
    # 2025: 1 to 8 October off (with 中秋节); Sunday 28 September and Saturday 11 October worked
    assert cal.is_working_day(date(2025, 9, 28)) and cal.is_working_day(date(2025, 10, 11))
    assert not cal.is_working_day(date(2025, 10, 8))
    assert cal.add_working_days(date(2025, 9, 30), 1).day == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 9, 30), 3).day == date(2025, 10, 11)
    # 2026: 1 to 7 October off; Sunday 20 September and Saturday 10 October worked
    assert cal.is_working_day(date(2026, 9, 20)) and cal.is_working_day(date(2026, 10, 10))
    assert cal.add_working_days(date(2026, 9, 30), 3).day == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 9, 30), 4).day == date(2026, 10, 12)


def test_a_year_nobody_knows_is_monday_to_friday_and_provisional(cal_dir: Path) -> None:
    cal = work_calendar(cal_dir)
    # 10 working days from Monday 21 December 2026: 22–31 December is 8, then 2027
    found = cal.add_working_days(date(2026, 12, 21), 10)
    assert found.day == date(2027, 1, 4) and found.provisional and found.unknown_years == (2027,)
    assert found.label() == "2027-01-04（暂定）"
    assert not cal.add_working_days(date(2026, 12, 1), 5).provisional


def test_a_file_added_for_the_year_is_used_at_once(cal_dir: Path) -> None:
    assert work_calendar(cal_dir).source(2027) is YearSource.UNKNOWN
    _write_2027(cal_dir)
    cal = work_calendar(cal_dir)
    assert cal.source(2027) is YearSource.NOTICE
    found = cal.add_working_days(date(2026, 12, 21), 10)
    assert found.day == date(2027, 1, 7) and not found.provisional


def test_a_file_overrides_the_library(cal_dir: Path) -> None:
    # a (fictitious) correction of 2024: the file decides the whole year
    (cal_dir / "2024.yaml").write_text(
        _file(2024, "  - {name: 测试节, start: 2024-03-04, end: 2024-03-04}\n"), encoding="utf-8"
    )
    cal = work_calendar(cal_dir)
    assert not cal.is_working_day(date(2024, 3, 4))
    assert cal.is_working_day(date(2024, 2, 12))  # 春节 by the library, not in this file


def _file(year: int, holidays: str, source: str | None = None) -> str:
    src = source or (
        f"source:\n  title: 国务院办公厅关于{year}年部分节假日安排的通知（测试用）\n"
        f"  document_no: 测试〔{year - 1}〕1号\n  issued_on: {year - 1}-11-10\n"
    )
    return f"year: {year}\n{src}holidays:\n{holidays}"


def _write_2027(cal_dir: Path) -> None:
    # a test file, not the real 2027 schedule (not published when this was written)
    (cal_dir / "2027.yaml").write_text(
        _file(
            2027,
            "  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}\n"
            "  - {name: 测试节, start: 2027-01-04, end: 2027-01-05}\n",
        ),
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("2027.yaml", "year: [", "无法读取或解析"),
        (
            "2027.yaml",
            _file(2028, "  - {name: 元旦, start: 2028-01-01, end: 2028-01-01}\n"),
            "与文件名 2027 一致",
        ),
        ("2027.yaml", "year: 2027\nholidays: []\n", "缺少来源通知"),
        (
            "2027.yaml",
            _file(2027, "  - {name: 元旦, start: 2027-01-01, end: 2027-13-01}\n"),
            "“2027-13-01”不是 YYYY-MM-DD",
        ),
        (
            "2027.yaml",
            _file(2027, "  - {name: 春节, start: 2027-02-10, end: 2027-02-05}\n"),
            "早于开始日期",
        ),
        (
            "2027.yaml",
            _file(
                2027,
                "  - {name: 春节, start: 2027-02-06, end: 2027-02-12, workdays: [2027-02-15]}\n",
            ),
            "调休上班日 2027-02-15 是星期一，应为周六或周日",
        ),
        (
            "2027.yaml",
            _file(2027, "  - {name: 国庆节, start: 2028-10-01, end: 2028-10-07}\n"),
            "不在 2027 年",
        ),
        (
            "2027.yaml",
            _file(2027, "  - {start: 2027-01-01, end: 2027-01-01}\n"),
            "缺少第 1 个节日的名称",
        ),
        (
            "2027.yaml",
            _file(
                2027,
                "  - {name: 甲, start: 2027-01-01, end: 2027-01-02}\n"
                "  - {name: 乙, start: 2027-01-02, end: 2027-01-02}\n",
            ),
            "2027-01-02 同时列在“甲”和第 2 个节日“乙”中",
        ),
        (
            "next.yaml",
            _file(2027, "  - {name: 元旦, start: 2027-01-01, end: 2027-01-01}\n"),
            "文件名应为四位年份",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_file_and_problem(
    cal_dir: Path, name: str, text: str, problem: str
) -> None:
    (cal_dir / name).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        work_calendar(cal_dir)
    assert exc.value.code == "CALENDAR_INVALID"
    assert str(cal_dir / name) in exc.value.message and problem in exc.value.message
