"""Evaluation models as data (``catalog/evaluation/*.yaml``): dimensions, indicators, grade bands,
supervision classes and hard rules, validated when loaded.

An indicator is a rule over the subject's records in force on the run's day (list entries are
records of the list datasets): which records it matches (``match``), the points each is worth
(``points``, or ``values`` by an item's value), how a record's points fade with its age
(``decay``), what a repeat costs (``repeat``) and the bounds of the indicator's total
(``min_points``/``max_points``). Each record counts for the first indicator of the model that
matches it and for no other (no double counting). A hard rule overrides the score: a serious
dishonesty listing in force puts the subject in the lowest class whatever its points.

A ``kind: criteria`` model (the rural ratings 信用户 / 信用村 / 信用乡镇) rates a unit instead
of scoring it: every subject with a record of the model's ``unit`` dataset passes when each
criterion holds — an item of that record against a threshold, the ratio of two of its items,
the share of its members (the households of a village, the villages of a township, linked by
the area code) that meet a condition or passed another model, or no counted record of a kind.

A model with a mistake is refused at load with the file, the indicator or criterion and the
problem named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong import yamlio
from xinyong.catalog.loader import Catalog
from xinyong.errors import CatalogError, NotFound

FOLDER = "evaluation"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Model):
    """Which records an indicator or a hard rule takes. Every given part must hold."""

    datasets: tuple[str, ...] = ()
    # 失信信息 class of the record's publicity rule (轻微 / 一般 / 严重)
    classes: tuple[str, ...] = ()
    # an item's value (the enumeration's label as stored) among the given ones
    fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # the record is a list entry in force of one of these list classes (catalog/lists)
    lists: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _something(self) -> Match:
        if not (self.datasets or self.lists):
            raise ValueError("match 须至少给出 datasets 或 lists")
        return self


class Decay(_Model):
    """A record younger than ``years`` (from its decision date) counts ``factor`` of its points;
    bands in increasing age, older than the last band: nothing."""

    years: float = Field(gt=0)
    factor: float = Field(ge=0, le=1)


class Repeat(_Model):
    """Every counted record of the indicator after the first (the oldest) counts ``factor``
    times: in force means within its validity, so this is Nanyang's 'repeat within the
    validity period doubles'."""

    factor: float = Field(gt=1)


class Indicator(_Model):
    code: str
    name: str
    match: Match
    points: float | None = None
    # points by the value of ``values_field`` (e.g. 纳税信用等级 A → 30); other values: 0
    values_field: str | None = None
    values: dict[str, float] = Field(default_factory=dict)
    decay: tuple[Decay, ...] = ()
    repeat: Repeat | None = None
    min_points: float | None = None
    max_points: float | None = None
    public: bool = True  # the public may see this indicator's points (where the model shows any)
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        if (self.points is None) == (not self.values):
            raise ValueError("须给出 points 或 values（二者取一）")
        if self.values and not self.values_field:
            raise ValueError("给出 values 时须给出 values_field")
        if self.repeat is not None and self.points is None:
            raise ValueError("repeat 只能用于固定分值（points）的指标")
        ages = [d.years for d in self.decay]
        if ages != sorted(ages) or len(set(ages)) != len(ages):
            raise ValueError("decay 的 years 须严格递增")
        factors = [d.factor for d in self.decay]
        if factors != sorted(factors, reverse=True):
            raise ValueError("decay 的 factor 须随年限不增（越久越轻）")
        if (
            self.min_points is not None
            and self.max_points is not None
            and self.min_points > self.max_points
        ):
            raise ValueError("min_points 大于 max_points")
        return self

    @property
    def unit(self) -> float:
        """The points of one record of a fixed-points indicator (0 for ``values``)."""
        return self.points or 0.0


class Dimension(_Model):
    code: str
    name: str
    indicators: tuple[Indicator, ...]
    min_points: float | None = None
    max_points: float | None = None


class Band(_Model):
    """A grade (or class) for scores of at least ``min`` (the last band has none)."""

    code: str
    label: str
    min: float | None = None
    # 分类监管: what the model advises departments for subjects of this class
    inspection_ratio: float | None = Field(default=None, ge=0, le=1)  # 双随机 抽查比例
    advice: str | None = None


class HardRule(_Model):
    code: str
    name: str
    match: Match
    # what the rule forces: the lowest class and grade, and/or a score at most this
    lowest: bool = True
    score_at_most: float | None = None


class Visibility(_Model):
    """What the public sees of a subject's result; the subject itself and government see all."""

    grade: bool = True
    score: bool = False
    indicators: bool = False


class Bounds(_Model):
    floor: float | None = None
    ceiling: float | None = None


class Attribute(_Model):
    """Where a subject's industry or district is read (for monitoring): an item of its record of
    ``dataset``, the first ``prefix`` characters."""

    dataset: str
    field: str
    prefix: int | None = None


class EvaluationModel(_Model):
    code: str
    name: str
    kind: Literal["score"] = "score"
    description: str
    source: str
    subjects: tuple[str, ...]  # 行政相对人类别 scored
    exclude_status: tuple[str, ...] = ()  # 登记状态 not scored (注销, 吊销 …)
    counted_states: tuple[str, ...] = ("公示中",)
    base: float
    bounds: Bounds = Bounds()
    dimensions: tuple[Dimension, ...]
    grades: tuple[Band, ...]
    classes: tuple[Band, ...] = ()
    hard_rules: tuple[HardRule, ...] = ()
    public: Visibility = Visibility()
    industry: Attribute | None = None
    district: Attribute | None = None
    # population stability index above which monitoring raises an alert
    psi_alert: float = 0.25

    @model_validator(mode="after")
    def _check(self) -> EvaluationModel:
        for name, bands in (("grades", self.grades), ("classes", self.classes)):
            if not bands and name == "grades":
                raise ValueError("grades 不能为空")
            mins = [b.min for b in bands[:-1]]
            if any(m is None for m in mins) or (bands and bands[-1].min is not None):
                raise ValueError(f"{name}: 除最后一档外每档须有 min，最后一档不设 min")
            if mins != sorted(mins, reverse=True):  # type: ignore[type-var]
                raise ValueError(f"{name}: min 须从高到低排列")
            codes = [b.code for b in bands]
            if len(set(codes)) != len(codes):
                raise ValueError(f"{name}: 档次代码重复")
        codes = [i.code for i in self.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError(
                "指标代码重复：" + "、".join(sorted({c for c in codes if codes.count(c) > 1}))
            )
        return self

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    def dimension_of(self, indicator: str) -> Dimension:
        return next(d for d in self.dimensions if any(i.code == indicator for i in d.indicators))

    def band(self, bands: tuple[Band, ...], code: str | None) -> Band | None:
        return next((b for b in bands if b.code == code), None)


class Threshold(_Model):
    """What a figure must be: a label among ``in`` (an enumerated item), or a number within the
    given bounds (``at_least`` ≥, ``above`` >, ``at_most`` ≤, ``below`` <)."""

    in_: tuple[str, ...] = Field(default=(), alias="in")
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    def _numeric(self) -> list[tuple[str, float]]:
        ops = (("≥", self.at_least), (">", self.above), ("≤", self.at_most), ("<", self.below))
        return [(op, v) for op, v in ops if v is not None]

    def _check_given(self) -> None:
        if not self.in_ and not self._numeric():
            raise ValueError("须给出 in、at_least、above、at_most 或 below 之一")
        if self.in_ and self._numeric():
            raise ValueError("in 不能与数值阈值同用")


class Condition(Threshold):
    """An item of a member's record against a threshold (which members a share counts)."""

    field: str

    @model_validator(mode="after")
    def _given(self) -> Condition:
        self._check_given()
        return self


class Members(_Model):
    """The members of a unit: the subjects with a record in force of ``dataset`` whose ``key``
    item names the unit's area (the first ``prefix`` characters of both codes equal; all of
    them without ``prefix``), restricted by ``where``."""

    dataset: str
    key: str
    prefix: int | None = Field(default=None, ge=1)
    where: tuple[Condition, ...] = ()


class Rated(_Model):
    """A member counts when its result in ``model``'s current run has one of ``grades`` (the
    model's passing grade when none are given)."""

    model: str
    grades: tuple[str, ...] = ()


class Share(_Model):
    """count(members meeting ``that`` or ``rated``, among those meeting ``of``) ÷ count(members
    meeting ``of``)."""

    members: Members
    of: tuple[Condition, ...] = ()
    that: tuple[Condition, ...] = ()
    rated: Rated | None = None

    @model_validator(mode="after")
    def _one(self) -> Share:
        if bool(self.that) == (self.rated is not None):
            raise ValueError("share 须给出 that 或 rated（二者取一）")
        return self


class Ratio(_Model):
    """Two numeric items of the unit's record: ``num`` ÷ ``den``."""

    num: str
    den: str


class Criterion(Threshold):
    """One condition of a rating: its figure (one of ``value``, ``ratio``, ``share``, ``none``)
    against the threshold. ``none``: the number of the subject's counted records ``match``
    takes, which must be 0 (no threshold given)."""

    code: str
    name: str
    value: str | None = None
    ratio: Ratio | None = None
    share: Share | None = None
    none: Match | None = None
    public: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        given = [k for k in ("value", "ratio", "share", "none") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("须给出 value、ratio、share、none 之一（且只能一个）")
        if self.none is not None:
            if self.in_ or self._numeric():
                raise ValueError("none 不设阈值（须为0条）")
            return self
        self._check_given()
        if self.in_ and self.value is None:
            raise ValueError("in 只能用于 value")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("value", "ratio", "share", "none") if getattr(self, k) is not None)

    @property
    def percent(self) -> bool:
        """Ratios and shares read as percentages."""
        return self.ratio is not None or self.share is not None

    def threshold_text(self) -> str:
        if self.none is not None:
            return "= 0 条"
        if self.in_:
            return "为" + "或".join(self.in_)

        def num(v: float) -> str:
            return f"{v * 100:g}%" if self.percent else f"{v:g}"

        return "，".join(f"{op} {num(v)}" for op, v in self._numeric())


class Unit(_Model):
    """Who a rating rates: the subjects with a record in force of ``dataset`` (the latest one)
    meeting ``where``; ``key`` the item naming the unit's area, which members are matched on."""

    dataset: str
    key: str | None = None
    where: tuple[Condition, ...] = ()


class RatingModel(_Model):
    """A ``kind: criteria`` model: a unit passes (``passed``) when every criterion holds, else
    ``failed``. Its result's score is the number of criteria met, its points 1 or 0 by
    criterion."""

    code: str
    name: str
    kind: Literal["criteria"]
    description: str
    source: str
    subjects: tuple[str, ...]
    counted_states: tuple[str, ...] = ("公示中",)
    unit: Unit
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    passed: Band
    failed: Band
    public: Visibility = Visibility()
    psi_alert: float = 0.25

    @model_validator(mode="after")
    def _check(self) -> RatingModel:
        codes = [c.code for c in self.criteria]
        if len(set(codes)) != len(codes):
            raise ValueError(
                "准则代码重复：" + "、".join(sorted({c for c in codes if codes.count(c) > 1}))
            )
        if self.passed.code == self.failed.code:
            raise ValueError("passed 与 failed 的代码相同")
        if any(c.share is not None for c in self.criteria) and self.unit.key is None:
            raise ValueError("unit 须给出 key（share 按区划代码找成员）")
        return self

    # what the score models' readers ask of every model
    @property
    def indicators(self) -> tuple[Criterion, ...]:
        return self.criteria

    @property
    def grades(self) -> tuple[Band, ...]:
        return (self.passed, self.failed)

    @property
    def classes(self) -> tuple[Band, ...]:
        return ()

    @property
    def hard_rules(self) -> tuple[HardRule, ...]:
        return ()

    @property
    def industry(self) -> Attribute | None:
        return None

    @property
    def district(self) -> Attribute | None:
        return None

    def band(self, bands: tuple[Band, ...], code: str | None) -> Band | None:
        return next((b for b in bands if b.code == code), None)

    def members_of(self) -> list[str]:
        """The models whose results this one reads (run them first)."""
        return sorted({c.share.rated.model for c in self.criteria if c.share and c.share.rated})


AnyModel = EvaluationModel | RatingModel


@dataclass(frozen=True)
class ModelBook:
    models: dict[str, AnyModel]
    files: dict[str, Path]

    def get(self, code: str) -> AnyModel:
        key = code.strip()
        found = self.models.get(key.upper()) or next(
            (m for m in self.models.values() if m.name == key), None
        )
        if found is None:
            known = "、".join(f"{m.code}（{m.name}）" for m in self.models.values())
            raise NotFound("EVAL_MODEL_UNKNOWN", f"没有评价模型“{key}”。现有：{known}")
        return found


def _where(raw: Any, loc: tuple[Any, ...]) -> str:
    """'指标 CODE 的 field' for an error inside an indicator, else the dotted location."""
    parts = list(loc)
    if len(parts) >= 4 and parts[0] == "dimensions" and parts[2] == "indicators":
        try:
            code = raw["dimensions"][parts[1]]["indicators"][parts[3]].get("code", "?")
        except (KeyError, IndexError, TypeError, AttributeError):
            code = f"#{parts[3]}"
        rest = ".".join(str(p) for p in parts[4:]) or "(整项)"
        return f"指标 {code} 的 {rest}"
    if len(parts) >= 2 and parts[0] == "hard_rules" and isinstance(parts[1], int):
        try:
            code = raw["hard_rules"][parts[1]].get("code", "?")
        except (KeyError, IndexError, TypeError, AttributeError):
            code = f"#{parts[1]}"
        return f"硬性规则 {code} 的 " + (".".join(str(p) for p in parts[2:]) or "(整项)")
    if len(parts) >= 2 and parts[0] == "criteria" and isinstance(parts[1], int):
        try:
            code = raw["criteria"][parts[1]].get("code", "?")
        except (KeyError, IndexError, TypeError, AttributeError):
            code = f"#{parts[1]}"
        return f"准则 {code} 的 " + (".".join(str(p) for p in parts[2:]) or "(整项)")
    return ".".join(str(p) for p in parts) or "(整个文件)"


def _cross_check(path: Path, model: EvaluationModel, catalog: Catalog) -> list[str]:
    """What the schema cannot know: datasets, items, values and list classes named exist."""
    problems: list[str] = []
    list_classes = {k.list_class.value for k in catalog.lists.kinds.values()}

    def check_match(where: str, match: Match) -> None:
        for code in match.datasets:
            ds = catalog.datasets.get(code)
            if ds is None:
                problems.append(f"{path}: {where}: 目录中没有数据集 {code}")
                continue
            items = {i.code: i for i in ds.items}
            for field_code, wanted in match.fields.items():
                item = items.get(field_code)
                if item is None:
                    problems.append(f"{path}: {where}: 数据集 {code} 没有信息项 {field_code}")
                elif item.enum:
                    labels = {o.label for o in item.enum}
                    bad = [v for v in wanted if v not in labels]
                    if bad:
                        problems.append(
                            f"{path}: {where}: 信息项 {field_code} 没有取值 " + "、".join(bad)
                        )
        if match.fields and not match.datasets:
            problems.append(f"{path}: {where}: fields 须与 datasets 同用")
        for name in match.lists:
            if name not in list_classes:
                problems.append(f"{path}: {where}: 名单目录中没有名单类别 {name}")

    for ind in model.indicators:
        check_match(f"指标 {ind.code}", ind.match)
        if ind.values_field:
            for code in ind.match.datasets:
                ds = catalog.datasets.get(code)
                if ds is not None and ind.values_field not in {i.code for i in ds.items}:
                    problems.append(
                        f"{path}: 指标 {ind.code}: 数据集 {code} 没有信息项 {ind.values_field}"
                    )
    for rule in model.hard_rules:
        check_match(f"硬性规则 {rule.code}", rule.match)
    for name, attr in (("industry", model.industry), ("district", model.district)):
        if attr is None:
            continue
        ds = catalog.datasets.get(attr.dataset)
        if ds is None or attr.field not in {i.code for i in ds.items}:
            problems.append(f"{path}: {name}: 目录中没有 {attr.dataset}.{attr.field}")
    if model.code != path.stem:
        problems.append(f"{path}: 模型代码 {model.code} 与文件名 {path.stem} 不一致")
    return problems


_NUMERIC = ("decimal", "integer")


def _check_rating(path: Path, model: RatingModel, catalog: Catalog) -> list[str]:
    """What the schema cannot know of a rating: datasets, items and labels named exist, numeric
    thresholds are on numeric items, labels on enumerated ones."""
    problems: list[str] = []
    list_classes = {k.list_class.value for k in catalog.lists.kinds.values()}

    def items_of(where: str, code: str) -> dict[str, Any] | None:
        ds = catalog.datasets.get(code)
        if ds is None:
            problems.append(f"{path}: {where}: 目录中没有数据集 {code}")
            return None
        return {i.code: i for i in ds.items}

    def check_item(where: str, items: dict[str, Any], dataset: str, code: str, t: Any) -> None:
        item = items.get(code)
        if item is None:
            problems.append(f"{path}: {where}: 数据集 {dataset} 没有信息项 {code}")
            return
        if t is None:
            return
        if t.in_:
            if not item.enum:
                problems.append(f"{path}: {where}: 信息项 {code} 不是枚举项，不能用 in")
            else:
                bad = [v for v in t.in_ if v not in {o.label for o in item.enum}]
                if bad:
                    problems.append(f"{path}: {where}: 信息项 {code} 没有取值 " + "、".join(bad))
        elif item.type.value not in _NUMERIC:
            problems.append(f"{path}: {where}: 信息项 {code} 不是数值项，不能比较大小")

    unit = items_of("unit", model.unit.dataset)
    if unit is not None:
        if model.unit.key is not None:
            check_item("unit.key", unit, model.unit.dataset, model.unit.key, None)
        for cond in model.unit.where:
            check_item("unit.where", unit, model.unit.dataset, cond.field, cond)
    for c in model.criteria:
        where = f"准则 {c.code}"
        if c.value is not None and unit is not None:
            check_item(where, unit, model.unit.dataset, c.value, c)
        if c.ratio is not None and unit is not None:
            for code in (c.ratio.num, c.ratio.den):
                item = unit.get(code)
                if item is None or item.type.value not in _NUMERIC:
                    problems.append(
                        f"{path}: {where}: 数据集 {model.unit.dataset} 没有数值信息项 {code}"
                    )
        if c.share is not None:
            m = c.share.members
            items = items_of(where, m.dataset)
            if items is not None:
                check_item(where, items, m.dataset, m.key, None)
                for cond in (*m.where, *c.share.of, *c.share.that):
                    check_item(where, items, m.dataset, cond.field, cond)
        if c.none is not None:
            for code in c.none.datasets:
                if code not in catalog.datasets:
                    problems.append(f"{path}: {where}: 目录中没有数据集 {code}")
            for name in c.none.lists:
                if name not in list_classes:
                    problems.append(f"{path}: {where}: 名单目录中没有名单类别 {name}")
    if model.code != path.stem:
        problems.append(f"{path}: 模型代码 {model.code} 与文件名 {path.stem} 不一致")
    return problems


def _check_members(book: dict[str, AnyModel], files: dict[str, Path]) -> list[str]:
    """A share's ``rated`` names a model of the book with those grades, and no rating reads its
    own results, even through others."""
    problems: list[str] = []
    for model in book.values():
        if not isinstance(model, RatingModel):
            continue
        for c in model.criteria:
            if c.share is None or c.share.rated is None:
                continue
            other = book.get(c.share.rated.model)
            where = f"{files[model.code]}: 准则 {c.code} 的 share.rated"
            if other is None:
                problems.append(f"{where}: 没有评价模型 {c.share.rated.model}")
                continue
            if not c.share.rated.grades and not isinstance(other, RatingModel):
                problems.append(
                    f"{where}: 模型 {other.code} 不是评定（criteria）模型，须给出 grades"
                )
            bad = [g for g in c.share.rated.grades if g not in {b.code for b in other.grades}]
            if bad:
                problems.append(f"{where}: 模型 {other.code} 没有等级 " + "、".join(bad))
        seen: set[str] = set()
        todo = [model.code]
        while todo:
            code = todo.pop()
            found = book.get(code)
            if not isinstance(found, RatingModel):
                continue
            for nxt in found.members_of():
                if nxt == model.code:
                    problems.append(
                        f"{files[model.code]}: 评价模型 {model.code} 循环引用自身的结果"
                    )
                    todo = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
    return problems


def load_model(path: Path, catalog: Catalog) -> AnyModel:
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("CATALOG_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError("EVAL_MODEL_INVALID", f"{path}: 文件内容应为一个评价模型（映射）")
    model: AnyModel
    try:
        if raw.get("kind") == "criteria":
            model = RatingModel.model_validate(raw)
        else:
            model = EvaluationModel.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {_where(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise CatalogError("EVAL_MODEL_INVALID", "\n".join(lines)) from exc
    problems = (
        _check_rating(path, model, catalog)
        if isinstance(model, RatingModel)
        else _cross_check(path, model, catalog)
    )
    if problems:
        raise CatalogError("EVAL_MODEL_INVALID", "\n".join(problems))
    return model


def load_models(catalog: Catalog) -> ModelBook:
    """Every ``catalog/evaluation/*.yaml`` of the catalogue (none: an empty book)."""
    folder = catalog.root / FOLDER
    models: dict[str, AnyModel] = {}
    files: dict[str, Path] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.yaml")):
            model = load_model(path, catalog)
            models[model.code] = model
            files[model.code] = path
    problems = _check_members(models, files)
    if problems:
        raise CatalogError("EVAL_MODEL_INVALID", "\n".join(problems))
    return ModelBook(models, files)


_LOADED: dict[tuple[Path, tuple[tuple[str, float], ...]], ModelBook] = {}


def model_book(catalog: Catalog) -> ModelBook:
    """The models of ``catalog``, loaded once per set of file modification times (an operator's
    correction is read on the next call)."""
    folder = catalog.root / FOLDER
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    key = (catalog.root, tuple((p.name, p.stat().st_mtime) for p in files))
    if key not in _LOADED:
        _LOADED[key] = load_models(catalog)
    return _LOADED[key]


def decay_cutoffs(ind: Indicator, on: date) -> list[tuple[date, float]]:
    """(earliest decision date of the band, factor) for each decay band on ``on``."""
    return [(on - timedelta(days=round(d.years * 365.25)), d.factor) for d in ind.decay]
