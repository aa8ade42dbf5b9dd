"""The state rules (catalog/disclosure/states.yaml): the bundled defaults and a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xinyong.disclosure.state_rules import MeasureEffect, load_state_rules
from xinyong.errors import CatalogError
from xinyong.records import states

ROOT = Path(__file__).resolve().parents[2] / "catalog"


def test_bundled_defaults_keep_objections_shown_marked_and_measures_suspended() -> None:
    rules = load_state_rules(ROOT)
    assert rules.public_states == {states.PUBLISHED, states.OBJECTED}
    assert rules.marked_states == {states.OBJECTED}
    assert rules.label(states.OBJECTED) == "异议处理中"
    assert rules.triggering == {states.PUBLISHED}
    assert rules.suspending == {states.OBJECTED, states.REPAIRED}
    assert rules.rules[states.EXPIRED].measures is MeasureEffect.NONE
    assert rules.reasons[states.REPAIRED] == "已完成信用修复，已停止公示"


def _write(catalog_dir: Path, change: dict) -> Path:  # type: ignore[type-arg]
    path = catalog_dir / "disclosure" / "states.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for state, fields in change.items():
        if fields is None:
            del data["states"][state]
        else:
            data["states"].setdefault(state, {}).update(fields)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"已修复": None}, "缺少记录状态 已修复"),
        ({"冻结": {"label": "冻结", "public": False, "measures": "none", "reason": "x"}}, "冻结"),
        ({"异议中": {"measures": "sometimes"}}, "measures"),
        ({"期满停止公示": {"reason": None}}, "reason"),
        ({"公示中": {"public": False, "reason": "x"}}, "公示中 须 public: true"),
        ({"已撤销": {"marked": True}}, "marked"),
    ],
)
def test_a_broken_file_fails_naming_the_file_and_the_problem(
    catalog_dir: Path,
    change: dict,  # type: ignore[type-arg]
    problem: str,
) -> None:
    path = _write(catalog_dir, change)
    with pytest.raises(CatalogError) as err:
        load_state_rules(catalog_dir)
    assert str(path) in err.value.message and problem in err.value.message
    assert err.value.code == "STATE_RULES_INVALID"


def test_missing_and_unparsable_files(catalog_dir: Path) -> None:
    path = catalog_dir / "disclosure" / "states.yaml"
    path.write_text("states: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_state_rules(catalog_dir)
    assert err.value.code == "STATE_RULES_SYNTAX" and str(path) in err.value.message
    path.unlink()
    with pytest.raises(CatalogError) as err:
        load_state_rules(catalog_dir)
    assert err.value.code == "STATE_RULES_MISSING"
