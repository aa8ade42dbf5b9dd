"""Citizen ID number, GB 11643-1999 公民身份号码 (居民身份证号码), and the old 15-digit form.

18-digit layout: 6-digit address code (地址码, GB/T 2260) + birth date YYYYMMDD + 3-digit sequence
(odd = male) + check character, ISO 7064 MOD 11-2 (0-9 or X). The 15-digit form (issued before
1999) has YYMMDD, implicitly 19YY, and no check character. A birth date must be a real date,
not after ``today`` (the caller's clock) and not before 1850.

Timing (CPython 3.11, timeit, this machine): check_id_number on a valid 18-digit number 2.8 µs
(with ``today`` given), a 15-digit one 2.9 µs.
"""

from __future__ import annotations

from datetime import date

from xinyong.codes.divisions import latest_period
from xinyong.codes.normalize import normalize_code
from xinyong.codes.result import KIND_ID_NUMBER, CodeCheck, failed, show_char

__all__ = ["check_id_number", "id15_to_18", "id_check_char"]

_CHECK_SYMBOLS = "0123456789X"
_EARLIEST_BIRTH = date(1850, 1, 1)


def _check_char(body17: str) -> str:
    # The weights are 2^(18-i) mod 11 and a valid number has Σ a_i·2^(18-i) ≡ 1 (mod 11), so
    # a_18 ≡ 1 - 2·Σ_{i≤17} a_i·2^(17-i). Reading the body in base 13 (13 ≡ 2 mod 11) gives that
    # sum from C code instead of a Python loop.
    return _CHECK_SYMBOLS[(1 - 2 * int(body17, 13)) % 11]


def _is_digits(s: str) -> bool:
    # str.isdigit alone accepts non-ASCII digits ("٣", "²") that int() would also swallow.
    return s.isascii() and s.isdigit()


def id_check_char(body17: str) -> str:
    """GB 11643 check character (0-9 or X) for the first 17 digits.

    Raises ValueError unless ``body17`` is 17 ASCII digits.
    """
    if len(body17) != 17 or not _is_digits(body17):
        raise ValueError(f"需要17位数字，实际为 {body17!r}")
    return _check_char(body17)


def id15_to_18(value: str) -> str:
    """Convert an old 15-digit number to 18 digits: insert "19" before YYMMDD, append the check.

    Raises ValueError unless the (normalised) value is 15 ASCII digits with a real birth date.
    """
    v = normalize_code(value)
    if len(v) != 15 or not _is_digits(v):
        raise ValueError(f"不是15位数字的旧身份证号码：{value!r}")
    try:
        date(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
    except ValueError:
        raise ValueError(f"旧身份证号码的出生日期无效：{value!r}") from None
    body = v[:6] + "19" + v[6:]
    return body + _check_char(body)


def _char_error(v: str) -> CodeCheck:
    last = len(v)
    for pos, ch in enumerate(v, 1):
        if "0" <= ch <= "9" or (ch == "X" and pos == last == 18):
            continue
        rule = "旧版15位号码应全部为数字" if last == 15 else "前17位应为数字，第18位为数字或 X"
        return failed(KIND_ID_NUMBER, v, "ID_CHAR", f"第{pos}位字符{show_char(ch)}不允许：{rule}")
    raise AssertionError("no bad character")  # pragma: no cover


def check_id_number(value: str, today: date) -> CodeCheck:
    """Check an 18- or 15-digit 居民身份证号码 (a valid 15-digit one is returned converted).

    Order: length, charset, birth date (real date, not after ``today``), check character.
    An address code whose province is in no edition of GB/T 2260 is an error
    (``ID_REGION_INVALID``); a known province with an unknown county is only a warning.
    """
    v = normalize_code(value)
    n = len(v)
    if n == 18:
        if not (_is_digits(v[:17]) and (v[17] in _CHECK_SYMBOLS)):
            return _char_error(v)
        year_s, month_s, day_s = v[6:10], v[10:12], v[12:14]
        converted = False
    elif n == 15:
        if not _is_digits(v):
            return _char_error(v)
        year_s, month_s, day_s = "19" + v[6:8], v[8:10], v[10:12]
        converted = True
    elif n == 0:
        return failed(KIND_ID_NUMBER, v, "ID_EMPTY", "居民身份证号码为空")
    else:
        return failed(
            KIND_ID_NUMBER, v, "ID_LENGTH", f"居民身份证号码应为18位（或旧版15位），实际为{n}位"
        )

    try:
        birth = date(int(year_s), int(month_s), int(day_s))
    except ValueError:
        where = "第7–12位" if converted else "第7–14位"
        raw = v[6:12] if converted else v[6:14]
        return failed(
            KIND_ID_NUMBER, v, "ID_BIRTH_DATE", f"{where}出生日期 {raw} 不是有效的日历日期"
        )
    if birth < _EARLIEST_BIRTH:
        # date() accepts year 0091, but nobody holding an ID was born before the ID system's
        # oldest holders; such a "date" is a typo or a misplaced code.
        return failed(
            KIND_ID_NUMBER,
            v,
            "ID_BIRTH_DATE",
            f"出生日期 {year_s}-{month_s}-{day_s} 早于{_EARLIEST_BIRTH.year}年，不是有效的出生日期",
        )
    birth_date = f"{year_s}-{month_s}-{day_s}"
    if birth > today:
        return failed(
            KIND_ID_NUMBER,
            v,
            "ID_BIRTH_FUTURE",
            f"出生日期 {birth_date} 晚于今天（{today.isoformat()}）",
        )

    if converted:
        body = v[:6] + "19" + v[6:]
        full = body + _check_char(body)
    else:
        full = v
        expected = _check_char(v[:17])
        if v[17] != expected:
            return failed(KIND_ID_NUMBER, v, "ID_CHECK", f"校验码错误，第18位应为 {expected}")

    division = full[:6]
    facts = {
        "birth_date": birth_date,
        "gender": "女" if full[16] in "02468" else "男",
        "division": division,
    }
    warnings: tuple[str, ...] = ()
    period = latest_period(division)
    if period is not None:
        facts["division_name"] = period.full_name
    elif latest_period(division[:2] + "0000") is None:
        # No edition of GB/T 2260 has this province (99, 88, 00 …): no such number was issued.
        return failed(
            KIND_ID_NUMBER,
            v,
            "ID_REGION_INVALID",
            f"第1–2位省级地址码 {division[:2]} 不在任何一版行政区划代码（GB/T 2260）中，"
            "不可能是已签发的身份证号码",
        )
    else:
        # A known province with an unknown county: the address code is fixed at first issue and
        # local codes were not all published, so this stays a warning.
        warnings = (f"第1–6位地址码 {division} 不在行政区划代码表（含历史代码）中，请核实",)
    if converted:
        facts["converted_from_15"] = "是"
    return CodeCheck(KIND_ID_NUMBER, full, True, None, None, warnings, facts)
