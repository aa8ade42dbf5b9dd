"""Publicity periods (公示期限) as versioned, dated rule sets of the catalogue.

``catalog/publicity/`` holds one file per generation of the rules (reference domain.md §4.1:
the 2017 notice, 527号, NDRC order 58, GB-22, the 2026 《信用修复管理办法》), each in force from
its ``effective_from`` date, and ``classes.yaml``: the table that turns a penalty's 处罚类别
into its class (轻微 / 一般 / 严重). A record's rule set is the one in force on its decision
date; from it come the minimum end (可申请信用修复日: repair possible from) and the maximum end
(到期自动停止公示: the last day the public sees it). Everything here is pure: the batch step
(``assign``) and the daily run apply it to stored records.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xinyong import yamlio
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.errors import CatalogError

# 2099-12-31 is how departments and the national templates write "long term" (长期).
LONG_TERM = date(2099, 12, 31)
LONG_TERM_TEXT = "long_term"
CLASS_FILE = "classes.yaml"
MULTI_SEP = ";"  # how ingestion joins the labels of a multiple-choice item

_DURATION = re.compile(r"^P(\d{1,3})([YMD])$")


class PenaltyClass(StrEnum):
    """失信信息 class of the 2025/2026 rules; earlier generations give 轻微 the 一般 periods."""

    MINOR = "轻微"
    GENERAL = "一般"
    SERIOUS = "严重"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {PenaltyClass.MINOR: 0, PenaltyClass.GENERAL: 1, PenaltyClass.SERIOUS: 2}


@lru_cache(maxsize=65536)  # a batch has few distinct decision dates: most calls are repeats
def add_period(start: date, period: str) -> date:
    """``start`` plus ``P3M`` / ``P1Y`` / ``P10D`` (month ends clamp: 01-31 + P1M = 02-28);
    ``long_term`` is 2099-12-31, and nothing runs past it."""
    if period == LONG_TERM_TEXT:
        return LONG_TERM
    match = _DURATION.match(period)
    if match is None:
        raise ValueError(f"期限“{period}”应写作 P3M、P1Y、P0D 或 long_term")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "D":
        end = start + timedelta(days=n)
    else:
        months = start.month - 1 + (n * 12 if unit == "Y" else n)
        year, month = start.year + months // 12, months % 12 + 1
        end = date(year, month, min(start.day, monthrange(year, month)[1]))
    return min(end, LONG_TERM)


def _check_period(value: str | None) -> str | None:
    if value is not None:
        add_period(date(2001, 1, 31), value)  # raises on a malformed period
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Period(_Model):
    min: str | None = None  # None: no repair before the end (lists end by their own exit)
    max: str

    @field_validator("min", "max")
    @classmethod
    def _fmt(cls, v: str | None) -> str | None:
        return _check_period(v)

    @model_validator(mode="after")
    def _min_not_after_max(self) -> Period:
        probe = date(2001, 1, 31)
        if self.min is not None and add_period(probe, self.min) > add_period(probe, self.max):
            raise ValueError(f"最短期限 {self.min} 长于最长期限 {self.max}")
        return self


class SectorRule(_Model):
    """A sector's own rule: matches a decision by its items, then changes its class or period."""

    name: str
    # the 处罚类别 it speaks about; empty: the whole decision
    types: list[str] = Field(default_factory=list)
    # item code → fragments; matches when any item holds any fragment (e.g. the 处罚依据)
    when_contains: dict[str, list[str]] = Field(default_factory=dict)
    fine_at_most: Decimal | None = None  # 万元, the dataset's fine item
    fine_at_least: Decimal | None = None
    set_class: PenaltyClass | None = Field(default=None, alias="class")
    min_at_least: str | None = None
    # an item holding a later end the rule keeps (e.g. 限制从业 for longer than the period)
    max_until_field: str | None = None
    repairable: bool = True

    @field_validator("min_at_least")
    @classmethod
    def _fmt(cls, v: str | None) -> str | None:
        return _check_period(v)

    @model_validator(mode="after")
    def _has_effect(self) -> SectorRule:
        if (
            self.set_class is None
            and self.min_at_least is None
            and self.max_until_field is None
            and self.repairable
        ):
            raise ValueError("行业规则须有作用：class、min_at_least、max_until_field 或 repairable")
        return self


class DatasetRule(_Model):
    # the item holding the 处罚类别 when the periods depend on the class
    types_field: str | None = None
    periods: dict[PenaltyClass, Period] | None = None
    period: Period | None = None
    # an item whose date, when filled in, is the designating body's own end (lists)
    end_field: str | None = None
    # the department's 公示截止期: only compared, the computed end wins
    department_end_field: str | None = None
    fine_field: str | None = None
    # 河南省社会信用条例 art. 19: the rule set's henan_cap bounds this dataset
    capped: bool = False
    sector_rules: list[SectorRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> DatasetRule:
        if self.types_field is not None:
            missing = [c.value for c in PenaltyClass if c not in (self.periods or {})]
            if missing:
                raise ValueError("按类别计算的数据集须给出每一类的期限，缺少 " + "、".join(missing))
            if self.period is not None:
                raise ValueError("按类别计算时不能另给 period")
        elif self.period is None:
            raise ValueError("须给出 period（或 types_field 与 periods）")
        elif self.periods is not None or self.sector_rules:
            raise ValueError("periods 与 sector_rules 只用于按类别计算（须有 types_field）")
        return self


class RuleSet(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,46}$")
    name: str
    basis: str  # the rule and the reference's evidence mark
    effective_from: date
    # periods run from the decision date plus this many days (the publication; see files)
    start_offset_days: int = Field(default=0, ge=0, le=31)
    henan_cap: str | None = None
    datasets: dict[str, DatasetRule]

    @field_validator("henan_cap")
    @classmethod
    def _fmt(cls, v: str | None) -> str | None:
        return _check_period(v)


class ClassTable(_Model):
    """处罚类别 → class; a decision with several types takes the longest class."""

    default: PenaltyClass
    types: dict[str, PenaltyClass]


@dataclass(frozen=True)
class Publicity:
    """What a record's rule set says about it."""

    rule_id: str
    penalty_class: PenaltyClass | None
    min_end: date | None  # 可申请信用修复日 (repair possible from)
    max_end: date  # 公示截止 (last day shown; stopped automatically after it)


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _matches(rule: SectorRule, data: dict[str, Any], fine: Decimal | None) -> bool:
    if rule.when_contains and not any(
        frag in str(data.get(code) or "")
        for code, frags in rule.when_contains.items()
        for frag in frags
    ):
        return False
    if rule.fine_at_most is not None and (fine is None or fine > rule.fine_at_most):
        return False
    return not (rule.fine_at_least is not None and (fine is None or fine < rule.fine_at_least))


_MEMO_MAX = 100_000


def _class_inputs(rule: DatasetRule) -> tuple[str, ...]:
    """The items a dataset rule's class depends on."""
    named = [rule.types_field, rule.fine_field]
    for sector in rule.sector_rules:
        named += list(sector.when_contains)
    return tuple(dict.fromkeys(n for n in named if n is not None))


@dataclass(frozen=True)
class RuleBook:
    classes: ClassTable
    rule_sets: tuple[RuleSet, ...]  # by effective_from
    # Classes already worked out, by rule and the items they depend on: a batch repeats the
    # same types, fines and laws many times (bounded: cleared when it grows past _MEMO_MAX).
    _memo: dict[tuple[Any, ...], tuple[PenaltyClass, list[SectorRule]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _starts: list[date] = field(init=False, compare=False, repr=False)
    _inputs: dict[int, tuple[str, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", [rs.effective_from for rs in self.rule_sets])
        inputs = {
            id(rule): _class_inputs(rule)
            for rs in self.rule_sets
            for rule in rs.datasets.values()
            if rule.types_field is not None
        }
        object.__setattr__(self, "_inputs", inputs)

    def rule_set(self, rule_id: str) -> RuleSet:
        for rs in self.rule_sets:
            if rs.id == rule_id:
                return rs
        raise CatalogError("PUBLICITY_RULE_UNKNOWN", f"没有公示期限规则集“{rule_id}”")

    def rule_set_for(self, decision: date) -> RuleSet:
        """The rule set in force on the decision date. Decisions older than the first rule set
        take the first one: the platform has no older rule to apply [I]."""
        at = bisect_right(self._starts, decision)
        return self.rule_sets[max(at - 1, 0)]

    def fields(self, dataset: str) -> tuple[str, ...]:
        """Every item of ``dataset`` that some rule set reads: what a caller must fetch."""
        found: dict[str, None] = {}
        for rs in self.rule_sets:
            rule = rs.datasets.get(dataset)
            if rule is None:
                continue
            named = [rule.types_field, rule.end_field, rule.department_end_field, rule.fine_field]
            for sector in rule.sector_rules:
                named += [*sector.when_contains, sector.max_until_field]
            found.update(dict.fromkeys(n for n in named if n is not None))
        return tuple(found)

    def penalty_class(
        self, rule: DatasetRule, data: dict[str, Any]
    ) -> tuple[PenaltyClass, list[SectorRule]]:
        """The decision's class (the longest of its types') and the sector rules it meets."""
        assert rule.types_field is not None
        inputs = self._inputs.get(id(rule)) or _class_inputs(rule)
        key = (id(rule), *(data.get(f) for f in inputs))
        known = self._memo.get(key)
        if known is not None:
            return known
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[key] = found = self._penalty_class(rule, data)
        return found

    def _penalty_class(
        self, rule: DatasetRule, data: dict[str, Any]
    ) -> tuple[PenaltyClass, list[SectorRule]]:
        assert rule.types_field is not None
        types = [t for t in str(data.get(rule.types_field) or "").split(MULTI_SEP) if t]
        fine = _decimal(data.get(rule.fine_field)) if rule.fine_field else None
        matched = [r for r in rule.sector_rules if _matches(r, data, fine)]
        matched = [r for r in matched if not r.types or set(r.types) & set(types)]
        best: PenaltyClass | None = None
        for kind in types or [""]:
            cls = self.classes.types.get(kind, self.classes.default)
            for sector in matched:  # the first sector rule about this type decides
                if sector.set_class is not None and (not sector.types or kind in sector.types):
                    cls = sector.set_class
                    break
            if best is None or cls.rank > best.rank:
                best = cls
        assert best is not None
        return best, matched

    def compute(
        self, dataset: str, decision: date | None, data: dict[str, Any]
    ) -> Publicity | None:
        """The publicity of one record, or None when no rule speaks about it."""
        if decision is None:
            return None
        rs = self.rule_set_for(decision)
        rule = rs.datasets.get(dataset)
        if rule is None:
            return None
        start = decision + timedelta(days=rs.start_offset_days)
        cls: PenaltyClass | None = None
        matched: list[SectorRule] = []
        if rule.types_field is not None:
            assert rule.periods is not None
            cls, matched = self.penalty_class(rule, data)
            period = rule.periods[cls]
        else:
            assert rule.period is not None
            period = rule.period
        min_end = add_period(start, period.min) if period.min is not None else None
        max_end = add_period(start, period.max)
        own_end = parse_date(data.get(rule.end_field)) if rule.end_field else None
        if own_end is not None:
            max_end = own_end
        for sector in matched:
            later = parse_date(data.get(sector.max_until_field)) if sector.max_until_field else None
            if later is not None and later > max_end:
                max_end = later
            if sector.min_at_least is not None:
                floor = add_period(start, sector.min_at_least)
                min_end = floor if min_end is None else max(min_end, floor)
        if any(not s.repairable for s in matched):
            min_end = max_end
        if rule.capped and rs.henan_cap is not None:
            max_end = min(max_end, add_period(start, rs.henan_cap))
        if min_end is not None and min_end > max_end:
            min_end = max_end
        return Publicity(rs.id, cls, min_end, max_end)


# -- loading ------------------------------------------------------------------------------------


def _read(path: Path) -> Any:
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("PUBLICITY_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError("PUBLICITY_SHAPE", f"{path}: 文件内容应为一个映射")
    return raw


def _describe(path: Path, name: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(整个文件)"
        lines.append(f"{path}: {name} 的 {where}: {err['msg']}")
    return "\n".join(lines)


def _invalid(path: Path, name: str, message: str) -> CatalogError:
    return CatalogError("PUBLICITY_INVALID", f"{path}: {name}: {message}")


def _check_against(path: Path, rs: RuleSet, classes: ClassTable, catalog: Catalog) -> None:
    """Every dataset, item and 处罚类别 a rule set names must exist in the catalogue."""
    for code, rule in rs.datasets.items():
        ds = catalog.datasets.get(code)
        where = f"规则集 {rs.id} 的数据集 {code}"
        if ds is None:
            raise _invalid(path, where, "目录中没有这个数据集")
        items = {i.code: i for i in ds.items}
        named = [rule.types_field, rule.end_field, rule.department_end_field, rule.fine_field]
        for sector in rule.sector_rules:
            named += [*sector.when_contains, sector.max_until_field]
        for item in (n for n in named if n is not None):
            if item not in items:
                raise _invalid(path, where, f"数据集中没有信息项 {item}")
        if rule.types_field is not None:
            labels = {o.label for o in items[rule.types_field].enum}
            unknown = sorted(set(classes.types) - labels)
            if unknown:
                raise _invalid(
                    path, where, "类别表中有不在取值范围内的处罚类别 " + "、".join(unknown)
                )
            uncovered = sorted(labels - set(classes.types))
            if uncovered:
                raise _invalid(
                    path.parent / CLASS_FILE, where, "类别表缺少处罚类别 " + "、".join(uncovered)
                )
            for sector in rule.sector_rules:
                bad = [t for t in sector.types if t not in labels]
                if bad:
                    raise _invalid(
                        path, f"{where} 的行业规则“{sector.name}”", "未知处罚类别 " + "、".join(bad)
                    )


def load_rule_book(root: Path, catalog: Catalog | None = None) -> RuleBook:
    """Load ``root/publicity/`` (``root`` is the catalogue folder) and check it, against the
    catalogue's datasets when given; a broken file fails naming the file and the rule."""
    folder = root / "publicity"
    if not folder.is_dir():
        raise CatalogError("PUBLICITY_MISSING", f"公示期限规则文件夹不存在：{folder}")
    class_path = folder / CLASS_FILE
    if not class_path.exists():
        raise CatalogError("PUBLICITY_MISSING", f"缺少处罚类别表：{class_path}")
    try:
        classes = ClassTable.model_validate(_read(class_path))
    except ValidationError as exc:
        raise CatalogError("PUBLICITY_INVALID", _describe(class_path, "处罚类别表", exc)) from exc
    sets: list[RuleSet] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == CLASS_FILE:
            continue
        raw = _read(path)
        name = f"规则集 {raw.get('id', path.stem)}"
        try:
            rs = RuleSet.model_validate(raw)
        except ValidationError as exc:
            raise CatalogError("PUBLICITY_INVALID", _describe(path, name, exc)) from exc
        if rs.id in seen:
            raise _invalid(path, name, f"编号与 {seen[rs.id]} 重复")
        for other in sets:
            if other.effective_from == rs.effective_from:
                raise _invalid(path, name, f"生效日期与规则集 {other.id} 相同")
        seen[rs.id] = path
        if catalog is not None:
            _check_against(path, rs, classes, catalog)
        sets.append(rs)
    if not sets:
        raise CatalogError("PUBLICITY_MISSING", f"{folder} 中没有公示期限规则集")
    sets.sort(key=lambda r: r.effective_from)
    return RuleBook(classes=classes, rule_sets=tuple(sets))


@cache
def rule_book(root: Path) -> RuleBook:
    """The checked rule book of the catalogue at ``root``, loaded once per process."""
    return load_rule_book(root, load_catalog(root))
