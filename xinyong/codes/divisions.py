"""Administrative division codes, GB/T 2260 行政区划代码 (民政部县级以上行政区划代码), with history.

Data: ``data/divisions.csv`` (the current list) and ``data/divisions_history.csv`` (every code and
name used since 1981 with validity years), bundled from yescallop/areacodes (CC0), and
``data/divisions_mca_extra.csv`` (codes of the 民政部 yearly tables 1980–2018 the history lacks);
see ``data/README.md``. Both are read once, on first use, into dicts.

Old codes matter: the address code of a 居民身份证号码 is fixed when the number is first issued,
so the IDs of people registered in a county that was later renamed or abolished keep its code.

Timing (CPython 3.11, timeit, this machine, after loading): division_name 0.1 µs without a year,
0.7 µs with one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from xinyong.codes.catalog import code_catalog

__all__ = [
    "NATIONAL_CODE",
    "NATIONAL_NAME",
    "DivisionPeriod",
    "division_full_name",
    "division_history",
    "division_in_use",
    "division_known",
    "division_name",
    "latest_period",
    "registration_office_name",
]

EXTRA_FILE = "divisions_mca_extra.csv"

# The earliest table in the history is 1981; a period starting then may have started earlier.
_EARLIEST_TABLE = 1981
# The history has one snapshot per year end, so a change inside year Y shows up as
# "from Y" / "to Y"; the README asks for ±1 year slack when matching a year.
_YEAR_SLACK = 1


@dataclass(frozen=True, slots=True)
class DivisionPeriod:
    """One name of a code over a span of years (``valid_to`` exclusive, None = still in use)."""

    code: str
    name: str
    level: str  # "province" | "prefecture" | "county"
    parent_code: str | None
    valid_from: int
    valid_to: int | None
    status: str  # "in_use" | "abolished" | "changed"
    full_name: str  # e.g. "河南省濮阳市濮阳县"

    def covers(self, year: int, slack: int = 0) -> bool:
        if self.valid_from > _EARLIEST_TABLE and year < self.valid_from - slack:
            return False
        return self.valid_to is None or year < self.valid_to + slack


@dataclass(frozen=True, slots=True)
class _Tables:
    history: dict[str, tuple[DivisionPeriod, ...]]
    # Name used when no year is given: the current one, else the most recent historic one.
    latest: dict[str, DivisionPeriod]


def _full_name(name: str, level: str, province: str, prefecture: str) -> str:
    if level == "province":
        return name
    parts = [province]
    # "直辖" marks counties directly under a province or a municipality (e.g. 济源市, 东城区).
    if prefecture and prefecture != "直辖" and prefecture != province:
        parts.append(prefecture)
    if level == "county":
        parts.append(name)
    return "".join(parts)


@cache
def _tables() -> _Tables:
    data = resources.files("xinyong.codes").joinpath("data")
    current_lines = data.joinpath("divisions.csv").read_text(encoding="utf-8").splitlines()
    current = {row["code"]: row["name"] for row in csv.DictReader(current_lines)}

    grouped: dict[str, list[DivisionPeriod]] = {}
    history_lines = data.joinpath("divisions_history.csv").read_text(encoding="utf-8").splitlines()
    # codes of the 民政部 yearly tables 1980–2018 that the history lacks (110201 昌平县 of
    # 1980–81, the 1990s 省直辖 9001–9099 codes of county-level cities …): data/README.md
    extra_lines = data.joinpath(EXTRA_FILE).read_text(encoding="utf-8").splitlines()
    for row in (*csv.DictReader(history_lines), *csv.DictReader(extra_lines)):
        level = row["level"]
        period = DivisionPeriod(
            code=row["code"],
            name=row["name"],
            level=level,
            parent_code=row["parent_code"] or None,
            valid_from=int(row["valid_from"]),
            valid_to=int(row["valid_to"]) if row["valid_to"] else None,
            status=row["status"],
            full_name=_full_name(row["name"], level, row["province_name"], row["prefecture_name"]),
        )
        grouped.setdefault(period.code, []).append(period)

    _add_summary_codes(grouped)
    history: dict[str, tuple[DivisionPeriod, ...]] = {}
    latest: dict[str, DivisionPeriod] = {}
    for code, periods in grouped.items():
        periods.sort(key=lambda p: (p.valid_from, p.valid_to or 10_000))
        history[code] = tuple(periods)
        in_use = [p for p in periods if p.valid_to is None and current.get(code) == p.name]
        latest[code] = in_use[-1] if in_use else max(periods, key=_recency)
    return _Tables(history=history, latest=latest)


# GB/T 2260 (the standard's editions, unlike the 民政部 yearly tables bundled here) also lists
# summary codes: from the 1984 edition (back-dated to 1983) every prefecture-level city with
# districts has "xxxx01 市辖区", and the municipalities have "xx0100 市辖区" and "xx0200 县".
# Public security issued ID numbers under them (e.g. 130101, 440401), so they are added here,
# derived from the periods of the city's own districts and counties. Sources: GB/T 2260-2002
# (cn/GB2260 GB2260-2002.txt: 110100 市辖区, 110200 县, 130101 市辖区 …); the 1984 rule as
# quoted from zh.wikipedia 中华人民共和国行政区划代码 in jxlwqq/id-validator.py issue #17.
_SUMMARY_FROM = 1983
_MUNICIPALITIES = ("11", "12", "31", "50")


def _span(periods: list[DivisionPeriod]) -> tuple[int, int | None]:
    start = max(_SUMMARY_FROM, min(p.valid_from for p in periods))
    ends = [p.valid_to for p in periods]
    return start, None if None in ends else max(e for e in ends if e is not None)


def _summary(
    code: str,
    name: str,
    level: str,
    parent: DivisionPeriod,
    full: str,
    span: tuple[int, int | None],
) -> DivisionPeriod:
    return DivisionPeriod(
        code=code,
        name=name,
        level=level,
        parent_code=parent.code,
        valid_from=span[0],
        valid_to=span[1],
        status="in_use" if span[1] is None else "abolished",
        full_name=full,
    )


def _add_summary_codes(grouped: dict[str, list[DivisionPeriod]]) -> None:
    by_prefix: dict[str, list[DivisionPeriod]] = {}
    for code, periods in grouped.items():
        if not code.endswith("00"):
            by_prefix.setdefault(code[:4], []).extend(periods)
    for code, periods in list(grouped.items()):
        city = max(periods, key=_recency)
        if city.level != "prefecture" or not city.name.endswith("市"):
            continue
        districts = [p for p in by_prefix.get(code[:4], ()) if "02" <= p.code[4:] <= "20"]
        summary = code[:4] + "01"
        if (
            districts
            and summary not in grouped
            and any(p.valid_to is None or p.valid_to > _SUMMARY_FROM for p in districts)
        ):
            full = city.full_name + "市辖区"
            grouped[summary] = [_summary(summary, "市辖区", "county", city, full, _span(districts))]
    for prov in _MUNICIPALITIES:
        province = grouped.get(prov + "0000")
        if not province:
            continue
        for two, name in (("01", "市辖区"), ("02", "县")):
            code = prov + two + "00"
            members = by_prefix.get(prov + two, [])
            if code not in grouped and members:
                start = max(min(p.valid_from for p in members), province[0].valid_from)
                full = province[0].full_name + name
                grouped[code] = [
                    _summary(
                        code, name, "prefecture", province[0], full, (start, _span(members)[1])
                    )
                ]


def _recency(p: DivisionPeriod) -> tuple[int, int]:
    return (p.valid_to or 10_000, p.valid_from)


def _period(code: str, year: int | None) -> DivisionPeriod | None:
    tables = _tables()
    if year is not None:
        periods = tables.history.get(code)
        if periods:
            for slack in (0, _YEAR_SLACK):
                matches = [p for p in periods if p.covers(year, slack)]
                if matches:
                    return max(matches, key=_recency)
    # No name for that year (e.g. an ID issued after the county was created but for a person
    # born before): the current or most recent name is still the best description.
    return tables.latest.get(code)


def division_name(code: str, year: int | None = None) -> str | None:
    """Short name of a division code, e.g. ``"濮阳县"``.

    Without ``year``: the current name, or the most recent historic one for a retired code.
    With ``year``: the name valid in that year (±1 year), falling back to the former.
    None when the code was never used.
    """
    period = _period(code, year)
    return period.name if period is not None else None


def division_full_name(code: str, year: int | None = None) -> str | None:
    """Name with province and prefecture, e.g. ``"河南省濮阳市濮阳县"``.

    Same year rules as :func:`division_name`.
    """
    period = _period(code, year)
    return period.full_name if period is not None else None


def latest_period(code: str) -> DivisionPeriod | None:
    """The period used when no year is given (current, else most recent); one dict lookup."""
    return _tables().latest.get(code)


# Central bodies (国务院部门, 国家工商总局 registrations) carry 100000, which is not a GB/T 2260
# code; warning on every ministry would be noise. [I: seen in published codes of central bodies]
NATIONAL_CODE = "100000"
NATIONAL_NAME = "全国（中央）"


def registration_office_name(code: str) -> str | None:
    """Full name of the division code of a registering office (USCC 3-8, reg-no 1-6): a GB/T
    2260 code, the central level, or an office of the code catalogue (development zones …)."""
    period = _tables().latest.get(code)
    if period is not None:
        return period.full_name
    if code == NATIONAL_CODE:
        return NATIONAL_NAME
    return code_catalog().offices.get(code)


def division_known(code: str) -> bool:
    """True when the code is in the current list or was ever used since 1981."""
    return code in _tables().latest


def division_history(code: str) -> tuple[DivisionPeriod, ...]:
    """Every name the code has had, oldest first; empty when the code was never used."""
    return _tables().history.get(code, ())


def division_in_use(code: str) -> bool:
    """True when the code is in use today."""
    period = _tables().latest.get(code)
    return period is not None and period.valid_to is None
