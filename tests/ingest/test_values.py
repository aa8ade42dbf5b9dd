"""Single cell values in the forms departments actually send: dates and decimals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.ingest.values import (
    LONG_TERM,
    ValueProblem,
    format_decimal,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_year,
)


@pytest.mark.parametrize(
    "text",
    [
        "2023/05/01",
        "2023-05-01",
        "2023.05.01",
        "2023/5/1",
        "2023-5-1",
        "2023.5.1",
        "2023年5月1日",
        "2023年05月01日",
        "2023年5月1",
        "20230501",
        " 2023/05/01 ",
        "2023 年5月1日",
        "2023 - 05 - 01",
        # Excel cells exported with their time of day
        "2023-05-01 00:00:00",
        "2023/5/1 0:00",
        "2023-05-01T00:00:00",
        "2023-05-01 08:30:15.250",
    ],
)
def test_every_date_form_departments_send(text: str) -> None:
    assert parse_date(text) == date(2023, 5, 1)


def test_date_with_stray_spaces_inside_the_chinese_form() -> None:
    assert parse_date("2022 年5月23日") == date(2022, 5, 23)
    assert parse_date("2022年 5 月 23 日") == date(2022, 5, 23)


def test_long_term_is_an_ordinary_date() -> None:
    assert parse_date("2099/12/31") == LONG_TERM
    assert parse_date("2099年12月31日") == LONG_TERM


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2023-02-30", "DATE_INVALID"),
        ("2023/02/29", "DATE_INVALID"),  # not a leap year
        ("20231301", "DATE_INVALID"),
        ("2023年13月1日", "DATE_INVALID"),
        ("2023-04-31", "DATE_INVALID"),
        ("2023-00-10", "DATE_INVALID"),
        ("2023.05", "DATE_FORMAT"),
        ("2023年5月", "DATE_FORMAT"),
        ("05/01/2023", "DATE_FORMAT"),
        ("2023051", "DATE_FORMAT"),
        ("长期", "DATE_FORMAT"),
        ("45047", "DATE_FORMAT"),  # an Excel serial number written as text
        ("", "DATE_FORMAT"),
    ],
)
def test_invalid_dates_carry_their_code_and_a_chinese_reason(text: str, code: str) -> None:
    with pytest.raises(ValueProblem) as exc:
        parse_date(text)
    assert exc.value.code == code
    assert text.strip() in exc.value.message
    assert "日期" in exc.value.message


def test_leap_day_is_a_real_date() -> None:
    assert parse_date("2024/02/29") == date(2024, 2, 29)


@given(st.dates(min_value=date(1949, 10, 1), max_value=date(2099, 12, 31)), st.integers(0, 4))
def test_every_real_date_parses_in_every_form(d: date, style: int) -> None:
    text = [
        d.strftime("%Y/%m/%d"),
        d.isoformat(),
        f"{d.year}年{d.month}月{d.day}日",
        d.strftime("%Y%m%d"),
        f"{d.isoformat()} 00:00:00",
    ][style]
    assert parse_date(text) == d


# -- decimals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5", "0.5"),
        ("0.50", "0.5"),
        ("30", "30"),
        ("30.000", "30"),
        ("0", "0"),
        ("0.000", "0"),
        (" 2.5 ", "2.5"),
        ("0.02", "0.02"),
        ("135", "135"),
        ("0.000001", "0.000001"),
        ("1000000", "1000000"),
        ("0.5000000", "0.5"),  # trailing zeros are not decimal places
    ],
)
def test_decimals_are_canonical(text: str, expected: str) -> None:
    assert parse_decimal(text, unit="万元") == expected


@pytest.mark.parametrize(
    ("text", "code", "hint"),
    [
        ("1,000", "DECIMAL_INVALID", "千位分隔符"),
        ("1，000", "DECIMAL_INVALID", "千位分隔符"),
        ("五千元", "DECIMAL_INVALID", "请只填数字（单位：万元）"),
        ("0.5万元", "DECIMAL_INVALID", "请只填数字"),
        ("贰万", "DECIMAL_INVALID", "请只填数字"),
        ("abc", "DECIMAL_INVALID", "不是有效数字"),
        ("1e3", "DECIMAL_INVALID", "不是有效数字"),
        ("-1", "DECIMAL_NEGATIVE", "不能为负数"),
        ("-0.5", "DECIMAL_NEGATIVE", "不能为负数"),
        ("0.1234567", "DECIMAL_PLACES", "6 位"),
    ],
)
def test_bad_decimals_carry_their_code_and_a_hint(text: str, code: str, hint: str) -> None:
    with pytest.raises(ValueProblem) as exc:
        parse_decimal(text, unit="万元")
    assert exc.value.code == code
    assert hint in exc.value.message
    assert text in exc.value.message


def test_places_limit_is_configurable() -> None:
    assert parse_decimal("0.125", places=3) == "0.125"
    with pytest.raises(ValueProblem) as exc:
        parse_decimal("0.1255", places=3)
    assert exc.value.code == "DECIMAL_PLACES"


@given(st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False))
def test_decimal_written_with_trailing_zeros_compares_equal(value: object) -> None:
    text = format(value, "f")
    assert parse_decimal(text) == parse_decimal(text + ("0" if "." in text else ".0"))


def test_format_decimal_has_no_exponent() -> None:
    from decimal import Decimal

    assert format_decimal(Decimal("1E+3")) == "1000"
    assert format_decimal(Decimal("0.20")) == "0.2"
    assert format_decimal(Decimal("-0")) == "0"


# -- integers and years ------------------------------------------------------------------------


def test_integers_from_excel_floats() -> None:
    assert parse_integer("12") == "12"
    assert parse_integer("12.0") == "12"
    assert parse_integer("007") == "7"
    with pytest.raises(ValueProblem) as exc:
        parse_integer("十二")
    assert exc.value.code == "INTEGER_INVALID"


@pytest.mark.parametrize(("text", "expected"), [("2024", "2024"), ("2024年", "2024")])
def test_years(text: str, expected: str) -> None:
    assert parse_year(text) == expected
    assert parse_year(text + ".0" if text.isdigit() else text) == expected


@pytest.mark.parametrize("text", ["24", "1900", "2101", "二〇二四", "2024-01"])
def test_bad_years(text: str) -> None:
    with pytest.raises(ValueProblem) as exc:
        parse_year(text)
    assert exc.value.code == "YEAR_INVALID"
