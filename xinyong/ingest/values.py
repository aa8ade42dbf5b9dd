"""Parsing of single cell values in the forms departments actually send.

Each parser returns the normalised value or raises :class:`ValueProblem` with a stable code and
a Chinese reason. They run on every cell of million-row files, so the common forms take a fast
path before anything clever.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

LONG_TERM = date(2099, 12, 31)  # 双公示 templates write 2099/12/31 for 长期 (no end)


class ValueProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_DATE_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(text: str) -> date:
    """2023/05/01, 2023-05-01, 2023.5.1, 2023年5月1日, 20230501, '2023-05-01 00:00:00'."""
    s = text.strip()
    if len(s) == 10 and s[4] in "-/." and s[7] == s[4]:
        try:
            return date(int(s[0:4]), int(s[5:7]), int(s[8:10]))
        except ValueError:
            pass  # fall through to the full check for a clear message
    if _DATE_TIME_TAIL.search(s):
        s = _DATE_TIME_TAIL.sub("", s)
    if len(s) == 8 and s.isdigit():
        y, m, d = int(s[0:4]), int(s[4:6]), int(s[6:8])
    else:
        match = _DATE_SEPARATED.match(s)
        if match is None:
            raise ValueProblem(
                "DATE_FORMAT",
                f"日期“{text}”无法识别，请写作 YYYY/MM/DD、YYYY-MM-DD 或 YYYY年M月D日",
            )
        y, m, d = (int(g) for g in match.groups())
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueProblem("DATE_INVALID", f"日期“{text}”不存在（{y}年{m}月{d}日）") from None


_DECIMAL_OK = re.compile(r"^-?\d+(\.\d+)?$")


def parse_decimal(text: str, *, unit: str | None = None, places: int = 6) -> str:
    """A non-negative decimal, at most ``places`` decimals; returned as a canonical string."""
    s = text.strip().replace(" ", "")
    # Fast path for plain amounts ('0.2', '15', '3.50'): canonical text without Decimal.
    whole, dot, frac = s.partition(".")
    if whole.isdigit() and whole.isascii() and (not dot or (frac.isdigit() and frac.isascii())):
        frac = frac.rstrip("0")
        if len(frac) <= places:
            whole = whole.lstrip("0") or "0"
            return f"{whole}.{frac}" if frac else whole
    if not _DECIMAL_OK.match(s):
        hint = ""
        if "," in s or "，" in s:
            hint = "，不要使用千位分隔符"
        elif re.search(r"[元万亿千百十一二三四五六七八九零壹贰叁肆伍陆柒捌玖拾佰仟]", s):
            hint = f"，请只填数字{f'（单位：{unit}）' if unit else ''}"
        raise ValueProblem("DECIMAL_INVALID", f"金额/数值“{text}”不是有效数字{hint}")
    try:
        num = Decimal(s)
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        raise ValueProblem("DECIMAL_INVALID", f"“{text}”不是有效数字") from None
    if num < 0:
        raise ValueProblem("DECIMAL_NEGATIVE", f"数值“{text}”不能为负数")
    exponent = num.normalize().as_tuple().exponent  # trailing zeros are not places
    if isinstance(exponent, int) and -exponent > places:
        raise ValueProblem("DECIMAL_PLACES", f"数值“{text}”小数位数超过 {places} 位")
    return format_decimal(num)


def format_decimal(num: Decimal) -> str:
    """Canonical text: no exponent, no trailing zeros ('0.20' and '.2' compare equal)."""
    out = format(num.normalize(), "f")
    return "0" if out in ("-0", "") else out


def parse_integer(text: str) -> str:
    s = text.strip()
    if s.endswith(".0"):  # Excel hands integers over as floats
        s = s[:-2]
    if not s.isdigit():
        raise ValueProblem("INTEGER_INVALID", f"“{text}”不是整数")
    return str(int(s))


def parse_year(text: str) -> str:
    s = text.strip().removesuffix("年")
    if s.endswith(".0"):
        s = s[:-2]
    if len(s) != 4 or not s.isdigit() or not 1949 <= int(s) <= 2100:
        raise ValueProblem("YEAR_INVALID", f"年度“{text}”应为四位年份，如 2024")
    return s
