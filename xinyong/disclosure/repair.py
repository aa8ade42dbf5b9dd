"""Repair eligibility (信用修复资格): for one record, whether it can be repaired, from which
date, under which rule, who decides, or why never — what the subject page, the API, the credit
report and ``xinyong repair eligibility`` say, as 信用中国 does with its disabled
"申请信用修复" button and the date.

The date is the record's minimum publicity period (``records.publicity_min_end``), computed when
it was stored from the rule set in force on its decision date (``publicity``: NDRC-58 before
2026-04-01, NDRC Order 36 from then on). ``catalog/repair/rules.yaml`` adds what the rule sets do
not say: which datasets are 失信信息 (the catalogue's 信息性质), who decides, the deadlines, the
rules that override the generation's name (SAMR Order 107 for market regulation) and the cases
that are never repairable (SAMR art. 14, 527号 特定严重失信, the courts' 失信被执行人). Pure: the
caller reads the record and passes today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xinyong import yamlio
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Nature
from xinyong.disclosure.publicity import MULTI_SEP, rule_book
from xinyong.errors import CatalogError
from xinyong.records import states

RULES_FILE = Path("repair") / "rules.yaml"

# stable codes of the answer (``code`` in the API and --json)
ELIGIBLE = "REPAIR_ELIGIBLE"  # may apply today
NOT_YET = "REPAIR_NOT_YET"  # may apply from ``from``
NEVER = "REPAIR_NEVER"  # a rule excludes it
NOT_DISHONEST = "REPAIR_NOT_DISHONEST"  # not 失信信息: nothing to repair
NOT_PUBLIC = "REPAIR_NOT_PUBLISHED"  # already repaired, expired or withdrawn
OBJECTED = "REPAIR_OBJECTED"  # an objection is under way
NO_RULE = "REPAIR_NO_RULE"  # no publicity rule speaks about it (no decision date)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetRepair(_Model):
    decider: Literal["source", "designating"] = "source"
    from_decision: bool = False
    never: str | None = None
    basis: str | None = None


class Matcher(_Model):
    name: str
    datasets: list[str]
    decided_from: date | None = None
    rule_sets: list[str] = Field(default_factory=list)
    types_field: str | None = None
    types: list[str] = Field(default_factory=list)
    when_contains: dict[str, list[str]] = Field(default_factory=dict)

    def matches(self, dataset: str, decided: date | None, rule_id: str | None, data: Any) -> bool:
        if dataset not in self.datasets:
            return False
        if self.decided_from is not None and (decided is None or decided < self.decided_from):
            return False
        if self.rule_sets and rule_id not in self.rule_sets:
            return False
        if self.types:
            have = set(str((data or {}).get(self.types_field or "") or "").split(MULTI_SEP))
            if not have & set(self.types):
                return False
        return not self.when_contains or any(
            frag in str((data or {}).get(code) or "")
            for code, frags in self.when_contains.items()
            for frag in frags
        )


class NeverRule(Matcher):
    reason: str
    basis: str


class RepairRules(_Model):
    deadline_working_days: int = Field(ge=1, le=60)
    department_working_days: int = Field(ge=1, le=60)
    datasets: dict[str, DatasetRepair]
    overrides: list[Matcher] = Field(default_factory=list)
    never: list[NeverRule] = Field(default_factory=list)


def load_repair_rules(root: Path, catalog: Catalog | None = None) -> RepairRules:
    """``root/repair/rules.yaml`` checked (against the catalogue's datasets when given); a
    broken file fails naming the file and the place."""
    path = root / RULES_FILE
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
        rules = RepairRules.model_validate(raw)
    except FileNotFoundError:
        raise CatalogError("REPAIR_RULES_MISSING", f"缺少信用修复规则文件：{path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("REPAIR_RULES_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(整个文件)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise CatalogError("REPAIR_RULES_INVALID", f"{path}: {where}") from exc
    if catalog is not None:
        named = set(rules.datasets)
        for m in [*rules.overrides, *rules.never]:
            named |= set(m.datasets)
        unknown = sorted(named - set(catalog.datasets))
        if unknown:
            raise CatalogError(
                "REPAIR_RULES_INVALID", f"{path}: 目录中没有数据集 {'、'.join(unknown)}"
            )
    return rules


@cache
def repair_rules(root: Path) -> RepairRules:
    return load_repair_rules(root)


@dataclass(frozen=True)
class Eligibility:
    record_id: int
    repairable: bool  # can it be repaired at all (now or from ``from_date``)
    applicable_now: bool  # may the subject apply today
    from_date: date | None  # 可申请信用修复日期
    code: str
    reason: str  # Chinese, for people
    rule: str | None  # the rule generation's id (or the override's name)
    rule_name: str | None
    basis: str | None
    decider: str | None  # source / designating

    def button(self) -> str:
        """The text of the 申请信用修复 button or the note beside it."""
        if self.applicable_now:
            return "申请信用修复"
        if self.repairable and self.from_date:
            return f"{self.from_date.isoformat()} 起可申请信用修复"
        return self.reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "repairable": self.repairable,
            "applicable_now": self.applicable_now,
            "from": self.from_date.isoformat() if self.from_date else None,
            "code": self.code,
            "reason": self.reason,
            "rule": self.rule,
            "rule_name": self.rule_name,
            "basis": self.basis,
            "decider": self.decider,
        }


def eligibility(
    catalog: Catalog, record: dict[str, Any], today: date, rules: RepairRules | None = None
) -> Eligibility:
    """The answer for one record (a mapping with the ``records`` columns)."""
    rules = rules or repair_rules(catalog.root)
    rid = int(record["id"])
    dataset = str(record["dataset"])
    rule_id = record.get("publicity_rule")
    rule_name: str | None = None
    if rule_id:
        try:
            rule_name = rule_book(catalog.root).rule_set(str(rule_id)).name
        except CatalogError:
            rule_name = str(rule_id)

    def answer(
        code: str,
        reason: str,
        *,
        repairable: bool = False,
        now: bool = False,
        on: date | None = None,
        basis: str | None = None,
        decider: str | None = None,
        named: bool = True,
    ) -> Eligibility:
        rule, name = (rule_id, rule_name) if named else (None, None)
        return Eligibility(rid, repairable, now, on, code, reason, rule, name, basis, decider)

    ds = catalog.datasets.get(dataset)
    how = rules.datasets.get(dataset)
    if ds is None or ds.nature is not Nature.DISHONEST or how is None:
        return answer(NOT_DISHONEST, "该信息不属于失信信息，无需信用修复")
    if how.never:
        return answer(NEVER, how.never, basis=how.basis, named=False)
    decided = record.get("decision_date")
    data = record.get("data") or {}
    for never in rules.never:
        if never.matches(dataset, decided, rule_id, data):
            return answer(NEVER, never.reason, basis=never.basis)
    state = record.get("state")
    if state == states.REPAIRED:
        return answer(NOT_PUBLIC, "已完成信用修复，已停止公示")
    if state == states.EXPIRED:
        return answer(NOT_PUBLIC, "公示期满，已停止公示，无需修复")
    if state == states.WITHDRAWN:
        return answer(NOT_PUBLIC, "决定已撤销，无需修复")
    for over in rules.overrides:
        if over.matches(dataset, decided, rule_id, data):
            rule_id, rule_name = over.name, over.name
            break
    start: date | None = record.get("publicity_min_end")
    if start is None and how.from_decision:
        start = decided
    if start is None:
        return answer(
            NO_RULE, "无法确定可申请信用修复的日期（缺少决定日期或适用规则），请联系认定部门"
        )
    max_end: date | None = record.get("publicity_max_end")
    if max_end is not None and start >= max_end and not how.from_decision:
        return answer(NEVER, f"公示期内不得提前修复，{max_end.isoformat()} 后自动停止公示")
    if state == states.OBJECTED:
        return answer(
            OBJECTED,
            "异议处理中，办结后方可申请信用修复",
            repairable=True,
            on=start,
            decider=how.decider,
        )
    if today < start:
        return answer(
            NOT_YET,
            f"最短公示期未满，{start.isoformat()} 起可申请信用修复",
            repairable=True,
            on=start,
            decider=how.decider,
        )
    return answer(
        ELIGIBLE,
        "已满最短公示期，纠正失信行为、履行法定义务后可申请信用修复",
        repairable=True,
        now=True,
        on=start,
        decider=how.decider,
    )
