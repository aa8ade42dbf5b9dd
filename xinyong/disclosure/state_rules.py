"""How each record state shows and whether it triggers measures: catalogue data
(``catalog/disclosure/states.yaml``), decided here for every output and check.

The disclosure engine asks this table whether the public sees a record in a state (``public``),
under which label (``label``, e.g. 异议中 → 异议处理中), whether public output flags it with that
label (``marked``), why a record not shown is archived (``reason``) and what a 联合奖惩 check does
with it (``measures``: trigger, suspend — reported as no longer triggered — or none). A broken
file fails at load naming the file and the problem, like the rest of the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.errors import CatalogError
from xinyong.records import states

STATES_FILE = Path("disclosure") / "states.yaml"


class MeasureEffect(StrEnum):
    TRIGGER = "trigger"  # triggers the measures whose trigger states include 公示中
    SUSPEND = "suspend"  # would trigger, reported as suspended (不再触发) with the state
    NONE = "none"  # history: a check does not count it


class StateRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    public: bool
    marked: bool = False
    measures: MeasureEffect
    reason: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> StateRule:
        if not self.public and not self.reason:
            raise ValueError("不公开的状态须写明 reason（停止公示的原因）")
        if self.marked and not self.public:
            raise ValueError("marked 只适用于公开的状态")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    states: dict[str, StateRule]


@dataclass(frozen=True)
class StateRules:
    """The checked table, with the sets the engine's SQL and the checks need (each computed
    once: the lists ask them for every record shown)."""

    rules: dict[str, StateRule]

    def label(self, state: str) -> str:
        rule = self.rules.get(state)
        return rule.label if rule else state

    @cached_property
    def labels(self) -> dict[str, str]:
        return {s: r.label for s, r in self.rules.items()}

    @cached_property
    def public_states(self) -> frozenset[str]:
        return frozenset(s for s, r in self.rules.items() if r.public)

    @cached_property
    def marked_states(self) -> frozenset[str]:
        return frozenset(s for s, r in self.rules.items() if r.marked)

    @cached_property
    def reasons(self) -> dict[str, str]:
        return {s: r.reason for s, r in self.rules.items() if r.reason and not r.public}

    def with_effect(self, effect: MeasureEffect) -> frozenset[str]:
        return frozenset(s for s, r in self.rules.items() if r.measures is effect)

    @cached_property
    def triggering(self) -> frozenset[str]:
        return self.with_effect(MeasureEffect.TRIGGER)

    @cached_property
    def suspending(self) -> frozenset[str]:
        return self.with_effect(MeasureEffect.SUSPEND)

    @cached_property
    def counted_by_checks(self) -> frozenset[str]:
        """States a check fetches as hits: those that trigger and those that suspend."""
        return self.triggering | self.suspending


def load_state_rules(root: Path) -> StateRules:
    """``root/disclosure/states.yaml`` checked: every record state once, nothing unknown."""
    path = root / STATES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _File.model_validate(raw)
    except FileNotFoundError:
        raise CatalogError("STATE_RULES_MISSING", f"缺少记录状态披露规则文件：{path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("STATE_RULES_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(整个文件)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise CatalogError("STATE_RULES_INVALID", f"{path}: {where}") from exc
    given = set(parsed.states)
    unknown = sorted(given - set(states.ALL_STATES))
    if unknown:
        raise CatalogError(
            "STATE_RULES_INVALID",
            f"{path}: 没有这样的记录状态：{'、'.join(unknown)}"
            f"（现有：{'、'.join(states.ALL_STATES)}）",
        )
    missing = [s for s in states.ALL_STATES if s not in given]
    if missing:
        raise CatalogError("STATE_RULES_INVALID", f"{path}: 缺少记录状态 {'、'.join(missing)}")
    published = parsed.states[states.PUBLISHED]
    if not published.public or published.measures is not MeasureEffect.TRIGGER:
        # 公示中 is what publication means: a table that hides it would publish nothing
        raise CatalogError(
            "STATE_RULES_INVALID", f"{path}: 公示中 须 public: true 且 measures: trigger"
        )
    return StateRules(dict(parsed.states))


@cache
def state_rules(root: Path) -> StateRules:
    """The checked table of the catalogue at ``root``, loaded once per process."""
    return load_state_rules(root)
