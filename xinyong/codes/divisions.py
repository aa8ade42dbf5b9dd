"""Administrative division codes, GB/T 2260 行政区划代码 (民政部县级以上行政区划代码), with history.

Data: ``data/divisions.csv`` (the current list) and ``data/divisions_history.csv`` (every code and
name used since 1981 with validity years), bundled from yescallop/areacodes (CC0); see
``data/README.md``. Both are read once, on first use, into dicts.

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
    for row in csv.DictReader(history_lines):
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

    history: dict[str, tuple[DivisionPeriod, ...]] = {}
    latest: dict[str, DivisionPeriod] = {}
    for code, periods in grouped.items():
        periods.sort(key=lambda p: (p.valid_from, p.valid_to or 10_000))
        history[code] = tuple(periods)
        in_use = [p for p in periods if p.valid_to is None and current.get(code) == p.name]
        latest[code] = in_use[-1] if in_use else max(periods, key=_recency)
    return _Tables(history=history, latest=latest)


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
