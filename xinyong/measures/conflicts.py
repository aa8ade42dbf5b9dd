"""Conflict rules (``catalog/measures/conflicts.yaml``) decided from records already in hand.

For output that holds a subject's current records (a credit report, a subject page): which
``red_list`` rules hold, judged from those records alone, so that a red-list entry is never
shown as current beside the listing or penalty that suspends it. Pure functions.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from xinyong.catalog.lists import KIND_ITEM, NAME_ITEM, ListRegister
from xinyong.measures.catalog import ConflictRule, Measures

K = TypeVar("K", bound=Hashable)

# how a suspended red entry reads wherever it is shown (subject page, API, report notes)
SUSPENDED_LABEL = "暂停"


@dataclass(frozen=True)
class Current:
    """A record shown as current: its dataset, item values and decision date."""

    dataset: str
    values: dict[str, str]
    decision_date: date | None


def _since(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def kind_of(register: ListRegister, rec: Current) -> str | None:
    kind = register.resolve(rec.dataset, rec.values.get(KIND_ITEM), rec.values.get(NAME_ITEM))
    return kind.code if kind else None


def holding_rules(
    measures: Measures, register: ListRegister, shown: Iterable[Current], on: date
) -> list[ConflictRule]:
    """The ``red_list`` rules that the current records make hold."""
    recs = list(shown)
    kinds = {kind_of(register, r) for r in recs if register.of_dataset(r.dataset)}
    out: list[ConflictRule] = []
    for rule in measures.conflicts:
        if rule.applies_to != "red_list":
            continue
        holds = rule.blocked_by is not None and bool(kinds & set(rule.blocked_by.lists))
        if not holds and rule.penalty is not None:
            sev = measures.severities[rule.penalty.severity]
            since = _since(on, rule.penalty.years)
            holds = any(
                r.dataset == sev.dataset
                and r.decision_date is not None
                and since <= r.decision_date <= on
                and any(v in sev.any_of for v in r.values.get(sev.item, "").split("；"))
                for r in recs
            )
        if holds:
            out.append(rule)
    return out


def suspended(
    measures: Measures,
    register: ListRegister,
    shown: Sequence[tuple[K, Current]],
    on: date,
) -> dict[K, ConflictRule]:
    """Which of the ``shown`` red-list entries a holding rule suspends (key → the rule), judged
    from ``shown`` alone: a report and a subject page pass the same visible records and so
    answer alike."""
    rules = holding_rules(measures, register, (c for _, c in shown), on)
    out: dict[K, ConflictRule] = {}
    if not rules:
        return out
    for key, rec in shown:
        kind = kind_of(register, rec) if register.of_dataset(rec.dataset) else None
        rule = next((x for x in rules if x.red is not None and kind in x.red.lists), None)
        if rule is not None:
            out[key] = rule
    return out


def reason_text(rule: ConflictRule) -> str:
    """The rule's reason with its basis and id, as the department and the reader read it."""
    return f"{rule.reason}（依据：{rule.basis_text()}；冲突规则 {rule.id}）"
