"""What of a company name identifies it (名称主干), for matching names written differently.

Chinese enterprise names are 行政区划 + 字号 + 行业 + 组织形式, and the same company is written
with the division in front or in brackets after the 字号 (濮阳市鑫源商贸有限公司, 鑫源商贸（濮阳）
有限公司), with or without the county, as 有限责任公司 or 有限公司, with full- or half-width
brackets. ``core`` keeps what survives all of that: the normalised name (``normalize_name``:
width, bracket styles, spaces) without division names (GB/T 2260, the current and former names
of Henan's divisions, with and without their 省/市/县/区), without brackets, with one spelling
of the organisation form.
"""

from __future__ import annotations

import re
from functools import cache

from xinyong.codes.divisions import division_history
from xinyong.subjects.names import normalize_name

PROVINCE = "41"  # Henan: the divisions whose names are stripped
_FORMS = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"))
_SUFFIXES = ("自治县", "自治州", "省", "市", "县", "区")


@cache
def region_names() -> tuple[str, ...]:
    """Division names to strip, longest first (so 濮阳市 goes before 濮阳)."""
    names: set[str] = set()
    for prefecture in range(0, 100):
        for county in range(0, 100):
            code = f"{PROVINCE}{prefecture:02d}{county:02d}"
            for period in division_history(code):
                names.add(period.name)
                for suffix in _SUFFIXES:
                    short = period.name.removesuffix(suffix)
                    if short != period.name and len(short) >= 2:
                        names.add(short)
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


@cache
def _regions() -> re.Pattern[str]:
    # one alternation, longest names first: a single pass finds 濮阳市 before 濮阳
    return re.compile("|".join(re.escape(n) for n in region_names()))


def core(name: str) -> str:
    """The name's 主干: normalised, no divisions, no brackets, one spelling of the form."""
    text = normalize_name(name)
    for long, short in _FORMS:
        text = text.replace(long, short)
    stripped = _regions().sub("", text)
    if stripped:  # a name that is nothing but a division keeps it
        text = stripped
    return text.replace("(", "").replace(")", "")


def trade_fragment(name: str) -> str:
    """A fragment to find candidates by (the 字号 and what follows it): the first characters of
    the core, at least 3 where the core has them (the name index needs 2)."""
    return core(name)[:4]
