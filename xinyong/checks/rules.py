"""Which measures a subject's hits trigger for a business matter: pure functions, shared by
the single and the bulk check so that both answer alike.

Whether a record or list entry is in force on the day of the check is the disclosure engine's
rule (``xinyong.disclosure.in_force``), from its dates and state: an entry past its validity or
a record past its last day of publicity triggers nothing, whether or not ``xinyong daily`` ran.
A measure applies when one of its triggers matches a hit in force in one of the trigger's
states (公示中 by default). What the other states do is catalogue data decided by the disclosure
engine (``catalog/disclosure/states.yaml``, ``StateRules``): a state that ``trigger``s counts as
公示中 does; one that ``suspend``s (by default 异议中 and 已修复) does not trigger, and the measure
is returned as *no longer triggered*, with the state that stops it; ``none`` is history.
A ``clean_years`` trigger fires when the subject has no dishonesty record
(nature 失信, neither withdrawn nor repaired) decided in that many years and no black-list
entry in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xinyong.disclosure.in_force import in_force
from xinyong.disclosure.state_rules import StateRules
from xinyong.measures.catalog import ConflictRule, Kind, Measure, Measures, Trigger
from xinyong.records import states


@dataclass(frozen=True, slots=True)
class HitRow:
    """A record about the subject, as the rules need it."""

    record_id: int
    subject_id: int
    dataset: str
    state: str
    dept_uscc: str
    decision_date: date | None
    valid_until: date | None
    data: dict[str, Any]
    listed: bool  # a list entry (list dataset) rather than another record
    last_day: date | None = None  # the last day of publicity (records.publicity_max_end)
    list_kind: str | None = None  # 名单类别 of a list entry
    # HN-Reg art. 35: set when the subject checked is a responsible person of the listed
    # organisation this entry is about: (role label, organisation name, organisation code)
    via: tuple[str, str, str] | None = None

    def in_force(self, on: date, counted: frozenset[str]) -> bool:
        """The disclosure engine's rule, for a reader counting the states ``counted``."""
        return in_force(
            self.state, self.last_day, on, valid_until=self.valid_until, counted=counted
        )


@dataclass
class Outcome:
    """What the rules decided for one subject and matter."""

    applies: list[tuple[Measure, list[int]]] = field(default_factory=list)  # measure, record ids
    stopped: list[tuple[Measure, list[str]]] = field(default_factory=list)  # measure, states
    # rewards a punishment of the same answer rules out: (reward, rule, punishment ids)
    withheld: list[tuple[Measure, ConflictRule, list[str]]] = field(default_factory=list)
    # red-list entries suspended by a conflict rule: (record id, rule, blocking record ids)
    suspended: list[tuple[int, ConflictRule, list[int]]] = field(default_factory=list)


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def suspended_red(
    measures: Measures, hits: list[HitRow], history: list[HitRow], on: date
) -> list[tuple[int, ConflictRule, list[int]]]:
    """The red-list hits that a ``red_list`` conflict rule suspends: the subject has a listing
    of a blocking kind in force among ``hits``, or a penalty of the rule's severity decided
    inside its look-back among ``history``. Decided at read time, so a suspension ends by
    itself with the listing that caused it."""
    out: list[tuple[int, ConflictRule, list[int]]] = []
    taken: set[int] = set()
    for rule in measures.conflicts:
        if rule.applies_to != "red_list" or rule.red is None:
            continue
        reds = [h for h in hits if h.list_kind in rule.red.lists and h.record_id not in taken]
        if not reds:
            continue
        blocking: list[int] = []
        if rule.blocked_by is not None:
            blocking += [
                h.record_id
                for h in hits
                if h.list_kind in rule.blocked_by.lists
                and h.state == states.PUBLISHED
                and h.via is None
            ]
        if rule.penalty is not None:
            sev = measures.severities[rule.penalty.severity]
            since = _years_before(on, rule.penalty.years)
            for h in history:
                value = h.data.get(sev.item)
                values = value if isinstance(value, list) else [value]
                if (
                    h.dataset == sev.dataset
                    and h.state not in (states.WITHDRAWN, states.REPAIRED)
                    and h.decision_date is not None
                    and since <= h.decision_date <= on
                    and any(v in sev.any_of for v in values)
                ):
                    blocking.append(h.record_id)
        if blocking:
            for h in reds:
                taken.add(h.record_id)
                out.append((h.record_id, rule, sorted(set(blocking))))
    return out


def _matches(measures: Measures, trigger: Trigger, hit: HitRow) -> bool:
    if trigger.lists:
        return hit.list_kind in trigger.lists
    if trigger.dataset != hit.dataset:
        return False
    if trigger.severity is None:
        return True
    sev = measures.severities[trigger.severity]
    value = hit.data.get(sev.item)
    values = value if isinstance(value, list) else [value]
    return any(v in sev.any_of for v in values)


def is_clean(
    hits: list[HitRow],
    dishonest: frozenset[str],
    black: frozenset[str],
    years: int,
    on: date,
    listed: frozenset[str] = frozenset({states.PUBLISHED}),
) -> bool:
    """``listed``: the states of a black-list entry that break a clean record (those that
    trigger measures: a suspending state, such as an objection, does not)."""
    since = _years_before(on, years)
    for h in hits:
        if h.dataset in black and h.in_force(on, listed):
            return False
        if (
            h.dataset in dishonest
            and h.state not in (states.WITHDRAWN, states.REPAIRED)
            and (h.decision_date is None or h.decision_date >= since)
        ):
            return False
    return True


def evaluate(
    measures: Measures,
    candidates: list[Measure],
    hits: list[HitRow],
    *,
    history: list[HitRow],
    dishonest: frozenset[str],
    black: frozenset[str],
    on: date,
    rules: StateRules,
) -> Outcome:
    """Decide each candidate measure (those of the matter) for one subject: ``hits`` are the
    records in force, ``history`` every record fetched (for the clean-years test).

    Conflict rules (``catalog/measures/conflicts.yaml``) apply first and last: suspended
    red-list entries trigger nothing, and an applying punishment removes the rewards a
    ``matter`` rule says it contradicts. A hit reached through a responsible person (``via``)
    triggers only the measures aimed at responsible persons (HN-Reg art. 35)."""
    out = Outcome()
    out.suspended = suspended_red(measures, hits, history, on)
    if out.suspended:
        gone = {rid for rid, _, _ in out.suspended}
        hits = [h for h in hits if h.record_id not in gone]
    triggering = rules.triggering
    suspending = rules.suspending
    for m in candidates:
        because: list[int] = []
        stopping: set[str] = set()
        clean = False
        for t in m.triggers:
            if t.clean_years is not None:
                clean = clean or is_clean(history, dishonest, black, t.clean_years, on, triggering)
                continue
            for h in hits:
                if h.via is not None and not m.responsible_persons:
                    continue
                if not _matches(measures, t, h):
                    continue
                # a state the catalogue makes trigger counts as 公示中 does
                as_published = h.state in triggering and states.PUBLISHED in t.states
                if h.state in t.states or as_published:
                    because.append(h.record_id)
                elif h.state in suspending:
                    stopping.add(h.state)
        if because or clean:
            out.applies.append((m, sorted(set(because))))
        elif stopping:
            out.stopped.append((m, sorted(stopping)))
    _withhold_rewards(measures, out)
    return out


def _withhold_rewards(measures: Measures, out: Outcome) -> None:
    punishments = [m.id for m, _ in out.applies if m.kind is Kind.PUNISHMENT]
    if not punishments:
        return
    rules = [r for r in measures.conflicts if r.applies_to == "matter"]
    kept: list[tuple[Measure, list[int]]] = []
    for m, because in out.applies:
        if m.kind is Kind.REWARD:
            for rule in rules:
                by = [p for p in punishments if rule.removes(p, m.id)]
                if by:
                    out.withheld.append((m, rule, by))
                    break
            else:
                kept.append((m, because))
        else:
            kept.append((m, because))
    out.applies = kept
