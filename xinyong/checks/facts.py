"""What a check is made of, shared by the single and the bulk check: who may check, the
matter's datasets and rules at a date (cached), the hit rows of subjects' records and list
entries, and their split into hits and the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    any_,
    bindparam,
    select,
)
from sqlalchemy.dialects import postgresql

from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.catalog.lists import KIND_ITEM
from xinyong.catalog.loader import Catalog
from xinyong.checks.rules import HitRow
from xinyong.codes import normalize_code, uscc_check_char
from xinyong.disclosure.state_rules import StateRules, state_rules
from xinyong.errors import NotAllowed
from xinyong.lists.models import list_entries, list_entry_persons
from xinyong.lists.service import EXITED, ExitReason
from xinyong.measures.catalog import Kind, Measure, Measures
from xinyong.records import states
from xinyong.records.models import records
from xinyong.subjects.models import subjects

MAX_BULK_ROWS = 100_000
CHUNK = 2000
CHECKING_ROLES: frozenset[Role] = frozenset({Role.CLERK, Role.DEPT_SYSTEM, Role.OPERATOR})


def _may_check(principal: Principal) -> str | None:
    """The checking department (None for the operator) or ``CHECK_NOT_ALLOWED``."""
    if principal.role not in CHECKING_ROLES:
        raise NotAllowed("CHECK_NOT_ALLOWED", "只有部门经办人、部门系统和平台管理员可以核查")
    if principal.role in DEPARTMENT_ROLES and not principal.dept_uscc:
        raise NotAllowed("CHECK_NOT_ALLOWED", "部门账号未关联部门，不能核查")
    return principal.dept_uscc


@dataclass(frozen=True)
class _Context:
    """What the rules need, computed once per check from the catalogues."""

    matter: str
    candidates: list[Measure]
    datasets: frozenset[str]  # datasets whose records are fetched
    triggers: frozenset[str]
    kinds: frozenset[str]  # list kinds whose entries are hits (triggers and conflict rules)
    dishonest: frozenset[str]
    black: frozenset[str]
    on: date
    rules: StateRules  # how each state counts (catalog/disclosure/states.yaml)


# Contexts by (catalogue, measures, matter, day): the catalogues are loaded once per process and
# never changed in place, so a check need not re-scan them. The objects are kept beside the
# context and compared by identity, so a reused id() of a dropped catalogue cannot match.
_CONTEXTS: dict[tuple[int, int, str, date], tuple[Catalog, Measures, _Context]] = {}
_CONTEXTS_MAX = 256


def _context(catalog: Catalog, measures: Measures, matter: str, on: date) -> _Context:
    key = (id(catalog), id(measures), matter, on)
    cached = _CONTEXTS.get(key)
    if cached is not None and cached[0] is catalog and cached[1] is measures:
        return cached[2]
    ctx = _build_context(catalog, measures, matter, on)
    if len(_CONTEXTS) >= _CONTEXTS_MAX:
        _CONTEXTS.clear()
    _CONTEXTS[key] = (catalog, measures, ctx)
    return ctx


def _build_context(catalog: Catalog, measures: Measures, matter: str, on: date) -> _Context:
    m = measures.matter(matter)
    candidates = measures.for_matter(m.code, on)
    kinds = {k for c in candidates for t in c.triggers for k in t.lists}
    extra: set[str] = set()
    if any(c.kind is Kind.REWARD for c in candidates):
        # the conflict rules look at the listings and penalties that suspend a red entry
        for rule in measures.conflicts:
            if rule.blocked_by is not None:
                kinds.update(rule.blocked_by.lists)
            if rule.penalty is not None:
                extra.add(measures.severities[rule.penalty.severity].dataset)
    triggers = frozenset(
        {t.dataset for c in candidates for t in c.triggers if t.dataset}
        | {measures.kind_datasets[k] for k in kinds}
    )
    needs_history = any(t.clean_years for c in candidates for t in c.triggers)
    dishonest = frozenset(c for c, d in catalog.datasets.items() if d.nature.value == "失信")
    black = frozenset(c for c, d in catalog.datasets.items() if d.list_kind == "black")
    datasets = triggers | frozenset(extra) | (dishonest | black if needs_history else frozenset())
    rules = state_rules(catalog.root)
    return _Context(
        m.code, candidates, datasets, triggers, frozenset(kinds), dishonest, black, on, rules
    )


_ROW_COLS = (
    records.c.id,
    records.c.subject_id,
    records.c.dataset,
    records.c.state,
    records.c.dept_uscc,
    records.c.decision_date,
    records.c.data,
    records.c.publicity_max_end,
    list_entries.c.status,
    list_entries.c.valid_until,
    list_entries.c.exit_reason,
    list_entries.c.list_kind,
)


@lru_cache(maxsize=64)
def _records_statement(datasets: frozenset[str], many: str | None) -> Select[Any]:
    """Records of the subject(s) in ``datasets`` with their list facts joined: of one subject
    (``many`` None), or of many: "in" an expanded IN list, "any" a PostgreSQL array (one
    statement for any number of subjects, planned once instead of per 2,000-key IN list).
    Built once per set of datasets: SQLAlchemy memoizes a statement's cache key on the object,
    so a reused statement is neither rebuilt nor re-keyed on every check."""
    by_subject = (
        records.c.subject_id == bindparam("sid")
        if many is None
        else records.c.subject_id.in_(bindparam("ids", expanding=True))
        if many == "in"
        else records.c.subject_id == any_(bindparam("ids", type_=postgresql.ARRAY(BigInteger)))
    )
    return (
        select(*_ROW_COLS)
        .select_from(records.outerjoin(list_entries, list_entries.c.record_id == records.c.id))
        .where(
            by_subject,
            records.c.dataset.in_(sorted(datasets)),
            records.c.state != states.WITHDRAWN,
        )
    )


def _fetch_rows(conn: Connection, ctx: _Context, subject_ids: Iterable[int]) -> Iterator[Any]:
    """The rows the rules need of the given subjects: one statement per chunk of subjects."""
    if not ctx.datasets:
        return iter(())
    return _by_subject(conn, ctx.datasets, subject_ids)


def _by_subject(conn: Connection, datasets: frozenset[str], ids: Iterable[int]) -> Iterator[Any]:
    values = sorted(set(ids))
    if not values:
        return
    if conn.dialect.name == "postgresql":
        yield from conn.execute(_records_statement(datasets, "any"), {"ids": values})
        return
    stmt = _records_statement(datasets, "in")
    for i in range(0, len(values), CHUNK):
        yield from conn.execute(stmt, {"ids": values[i : i + CHUNK]})


def _fetch_one(conn: Connection, ctx: _Context, subject_id: int) -> list[Any]:
    if not ctx.datasets:
        return []
    return list(conn.execute(_records_statement(ctx.datasets, None), {"sid": subject_id}))


ROLE_LABELS = {
    "legal_rep": "法定代表人/主要负责人",
    "controller": "实际控制人",
    "responsible": "直接责任人",
}


class _FactRow(NamedTuple):
    """A record with its list facts (the columns of ``_ROW_COLS``, in their order), as the
    single check's joined read gives them, and, for a list entry of an organisation fetched
    for one of its responsible persons, ``via``: the person's role, the organisation's name
    and code. (Rows read by Core have the same attributes and no ``via``.)"""

    id: int
    subject_id: int
    dataset: str
    state: str
    dept_uscc: str
    decision_date: date | None
    data: Any
    publicity_max_end: date | None
    status: str | None
    valid_until: date | None
    exit_reason: str | None
    list_kind: str | None
    via: tuple[str, str, str] | None = None


def _fetch_as_person(conn: Connection, ctx: _Context, subject_id: int) -> list[_FactRow]:
    """The list entries on which the subject is named as a responsible person of the listed
    organisation (HN-Reg art. 35), with the role and the organisation."""
    return _fetch_as_persons(conn, ctx, [subject_id]).get(subject_id, [])


def _fetch_as_persons(
    conn: Connection, ctx: _Context, person_ids: Iterable[int]
) -> dict[int, list[_FactRow]]:
    """``_fetch_as_person`` for many persons at once (the bulk check): person id → rows, one
    statement per 2,000 persons."""
    datasets = {d for d in ctx.datasets if d in ctx.triggers}
    ids = sorted(set(person_ids))
    out: dict[int, list[_FactRow]] = {}
    if not datasets or not ids:
        return out
    org = subjects.alias("org")
    stmt = (
        select(
            *_ROW_COLS,
            list_entry_persons.c.subject_id.label("person_id"),
            list_entry_persons.c.role,
            org.c.name,
            org.c.uscc,
            org.c.org_code,
        )
        .select_from(
            list_entry_persons.join(records, records.c.id == list_entry_persons.c.record_id)
            .join(list_entries, list_entries.c.record_id == records.c.id)
            .join(org, org.c.id == records.c.subject_id)
        )
        .where(
            list_entry_persons.c.subject_id.in_(bindparam("ids", expanding=True)),
            records.c.dataset.in_(sorted(datasets)),
            records.c.state != states.WITHDRAWN,
        )
    )
    for i in range(0, len(ids), CHUNK):
        for r in conn.execute(stmt, {"ids": ids[i : i + CHUNK]}):
            out.setdefault(r.person_id, []).append(
                _FactRow(
                    r.id,
                    r.subject_id,
                    r.dataset,
                    r.state,
                    r.dept_uscc,
                    r.decision_date,
                    r.data,
                    r.publicity_max_end,
                    r.status,
                    r.valid_until,
                    r.exit_reason,
                    r.list_kind,
                    (ROLE_LABELS.get(r.role, r.role), r.name, r.uscc or r.org_code or ""),
                )
            )
    return out


def _split(ctx: _Context, rows: Iterable[Any]) -> tuple[list[HitRow], list[HitRow]]:
    """(hits in force, every row) from the fetched rows of one subject."""
    hits: list[HitRow] = []
    history: list[HitRow] = []
    for r in rows:
        listed = r.status is not None
        valid_until = r.valid_until
        data = r.data if isinstance(r.data, dict) else {}
        kind = (r.list_kind or data.get(KIND_ITEM)) if listed else None
        h = HitRow(
            r.id,
            r.subject_id,
            r.dataset,
            r.state,
            r.dept_uscc,
            r.decision_date,
            valid_until,
            data,
            listed,
            r.publicity_max_end,
            kind,
            getattr(r, "via", None),
        )
        history.append(h)
        # in force on the day checked, by the disclosure engine's rule (not the stored state
        # alone: the daily run may not have moved it yet)
        if r.dataset not in ctx.triggers or not h.in_force(ctx.on, ctx.rules.counted_by_checks):
            continue
        if listed and kind not in ctx.kinds:  # a list entry counts by its kind, not dataset
            continue
        if r.status == EXITED and r.exit_reason != ExitReason.REPAIRED.value:
            continue
        hits.append(h)
    return hits, history


def _subject_state(rules: StateRules, hits: list[HitRow]) -> list[str]:
    """The labels of the suspending states among the hits (异议处理中, 已修复), in state order."""
    found = {h.state for h in hits if h.state in rules.suspending}
    return [rules.label(s) for s in states.ALL_STATES if s in found]


def _classify_uscc(given: str) -> tuple[str | None, str]:
    """("uscc", the code) for a well-formed USCC (the bulk of what departments send),
    recognised by its check character alone, skipping the full check's division and
    registration-office lookups; (None, the normalised text) otherwise."""
    v = normalize_code(given)
    if len(v) == 18 and not v[:17].isdigit():
        try:
            if uscc_check_char(v[:17]) == v[17]:
                return "uscc", v
        except ValueError:
            pass
    return None, v
