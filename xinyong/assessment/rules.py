"""The assessment's indicators, weights, targets and grades (``catalog/assessment.yaml``), read
and checked once: a mistake names the file and the indicator."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong import yamlio
from xinyong.errors import CatalogError

RULES_FILE = "assessment.yaml"

Kind = Literal["timeliness", "linking", "acceptance", "regularity", "feedback", "cases"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Indicator(_Model):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    name: str
    kind: Kind
    weight: float = Field(gt=0, le=100)
    target: float = Field(ge=0, le=1)
    basis: str = ""
    # timeliness
    datasets: tuple[str, ...] = ()
    within_working_days: int | None = Field(default=None, ge=1, le=60)
    # acceptance
    penalty_per_upheld_objection: float = Field(default=0, ge=0, le=1)

    @model_validator(mode="after")
    def _complete(self) -> Indicator:
        if self.kind == "timeliness" and (not self.datasets or not self.within_working_days):
            raise ValueError(f"指标 {self.code}：timeliness 须给出 datasets 和 within_working_days")
        return self


class Grade(_Model):
    min: float = Field(ge=0, le=100)
    label: str


class Rules(_Model):
    indicators: tuple[Indicator, ...]
    grades: tuple[Grade, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Rules:
        codes = [i.code for i in self.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError(f"指标代码重复：{codes}")
        if not self.grades or min(g.min for g in self.grades) != 0:
            raise ValueError("grades 须覆盖 0 分（最低一档 min: 0）")
        return self

    def grade(self, score: float) -> str:
        return max((g for g in self.grades if score >= g.min), key=lambda g: g.min).label


def load_rules(catalog_dir: Path, known_datasets: frozenset[str] | None = None) -> Rules:
    path = Path(catalog_dir) / RULES_FILE
    try:
        rules = Rules.model_validate(yamlio.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(
            "ASSESSMENT_RULES_INVALID", f"考核规则 {path} 无法读取或格式有误：{exc}"
        ) from exc
    if known_datasets is not None:
        for ind in rules.indicators:
            unknown = [d for d in ind.datasets if d not in known_datasets]
            if unknown:
                raise CatalogError(
                    "ASSESSMENT_RULES_INVALID",
                    f"考核规则 {path}：指标 {ind.code} "
                    f"引用了目录中没有的数据集 {'、'.join(unknown)}",
                )
    return rules


@cache
def rules_of(catalog_dir: Path, known_datasets: frozenset[str]) -> Rules:
    return load_rules(catalog_dir, known_datasets)
