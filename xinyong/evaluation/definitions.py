"""Evaluation models as data (``catalog/evaluation/*.yaml``): dimensions, indicators, grade bands,
supervision classes and hard rules, validated when loaded.

An indicator is a rule over the subject's records in force on the run's day (list entries are
records of the list datasets): which records it matches (``match``), the points each is worth
(``points``, or ``values`` by an item's value), how a record's points fade with its age
(``decay``), what a repeat costs (``repeat``) and the bounds of the indicator's total
(``min_points``/``max_points``). Each record counts for the first indicator of the model that
matches it and for no other (no double counting). A hard rule overrides the score: a serious
dishonesty listing in force puts the subject in the lowest class whatever its points.

A model with a mistake is refused at load with the file, the indicator and the problem named.
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


@dataclass(frozen=True)
class ModelBook:
    models: dict[str, EvaluationModel]
    files: dict[str, Path]

    def get(self, code: str) -> EvaluationModel:
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


def load_model(path: Path, catalog: Catalog) -> EvaluationModel:
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("CATALOG_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError("EVAL_MODEL_INVALID", f"{path}: 文件内容应为一个评价模型（映射）")
    try:
        model = EvaluationModel.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {_where(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise CatalogError("EVAL_MODEL_INVALID", "\n".join(lines)) from exc
    problems = _cross_check(path, model, catalog)
    if problems:
        raise CatalogError("EVAL_MODEL_INVALID", "\n".join(problems))
    return model


def load_models(catalog: Catalog) -> ModelBook:
    """Every ``catalog/evaluation/*.yaml`` of the catalogue (none: an empty book)."""
    folder = catalog.root / FOLDER
    models: dict[str, EvaluationModel] = {}
    files: dict[str, Path] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.yaml")):
            model = load_model(path, catalog)
            models[model.code] = model
            files[model.code] = path
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
