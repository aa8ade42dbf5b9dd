"""Conflict rules (冲突规则) between red-list entries and dishonesty, at the subject level.

The rules are data (``catalog/measures/conflicts.yaml``, loaded with the measures list). This
module answers, for a set of subjects on a day, which ``red_list`` rules hold against them: a
listing of a blocking kind in force, or a penalty of the rule's severity inside its look-back.
Deliveries use it to refuse or suspend a new red entry; report and page code use it so that a
red entry is never shown as current beside a dishonesty listing. The check decides the same
from the rows it already holds (``checks.rules.suspended_red``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, or_

from xinyong.db import rows_by_keys
from xinyong.lists.models import list_entries
from xinyong.measures.catalog import ConflictRule, Measures
from xinyong.measures.conflicts import reason_text
from xinyong.records import states
from xinyong.records.models import records

LISTED = "listed"


@dataclass(frozen=True)
class Blocked:
    """A red_list rule holding against a subject, and the records that make it hold."""

    rule: ConflictRule
    because_of: tuple[int, ...]

    def message(self) -> str:
        return reason_text(self.rule)


def _since(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def red_rules(measures: Measures) -> list[ConflictRule]:
    return [r for r in measures.conflicts if r.applies_to == "red_list" and r.red is not None]


def blocked_subjects(
    conn: Connection, measures: Measures, subject_ids: Iterable[int], on: date
) -> dict[int, list[Blocked]]:
    """subject id → the red_list rules that hold against it on ``on`` (subjects without any
    are left out). A few keyed queries whatever the number of subjects."""
    ids = {s for s in subject_ids if s is not None}
    rules = red_rules(measures)
    if not ids or not rules:
        return {}
    blocking_kinds = {k for r in rules if r.blocked_by is not None for k in r.blocked_by.lists}
    listed: dict[int, list[tuple[int, str]]] = {}
    if blocking_kinds:
        for row in rows_by_keys(
            conn,
            (list_entries.c.subject_id, list_entries.c.record_id, list_entries.c.list_kind),
            list_entries.c.subject_id,
            ids,
            list_entries.c.status == LISTED,
            list_entries.c.list_kind.in_(sorted(blocking_kinds)),
            or_(list_entries.c.valid_until.is_(None), list_entries.c.valid_until >= on),
            or_(list_entries.c.listed_on.is_(None), list_entries.c.listed_on <= on),
        ):
            listed.setdefault(row.subject_id, []).append((row.record_id, row.list_kind))
        # an entry under objection or repaired does not block (as in checks)
        live = {
            r.id
            for r in rows_by_keys(
                conn,
                (records.c.id, records.c.state),
                records.c.id,
                {rid for v in listed.values() for rid, _ in v},
                records.c.state == states.PUBLISHED,
            )
        }
        listed = {s: [(r, k) for r, k in v if r in live] for s, v in listed.items()}
    penalties: dict[int, list[Any]] = {}
    for rule in rules:
        if rule.penalty is None:
            continue
        sev = measures.severities[rule.penalty.severity]
        for row in rows_by_keys(
            conn,
            (records.c.subject_id, records.c.id, records.c.data, records.c.decision_date),
            records.c.subject_id,
            ids,
            records.c.dataset == sev.dataset,
            records.c.state.notin_([states.WITHDRAWN, states.REPAIRED]),
            records.c.decision_date >= _since(on, rule.penalty.years),
            records.c.decision_date <= on,
        ):
            data = row.data if isinstance(row.data, dict) else {}
            value = data.get(sev.item)
            values = value if isinstance(value, list) else [value]
            if any(v in sev.any_of for v in values):
                penalties.setdefault(row.subject_id, []).append((rule.id, row.id))
    out: dict[int, list[Blocked]] = {}
    for sid in ids:
        found: list[Blocked] = []
        for rule in rules:
            because: list[int] = []
            if rule.blocked_by is not None:
                because += [r for r, k in listed.get(sid, []) if k in rule.blocked_by.lists]
            because += [r for rid, r in penalties.get(sid, []) if rid == rule.id]
            if because:
                found.append(Blocked(rule, tuple(sorted(set(because)))))
        if found:
            out[sid] = found
    return out


def applies_to(blocked: list[Blocked], kind: str | None) -> Blocked | None:
    """The first rule among ``blocked`` that concerns a red entry of ``kind``."""
    return next(
        (b for b in blocked if b.rule.red is not None and kind in b.rule.red.lists),
        None,
    )
