"""The single check (单个核查): one subject for one business matter, answered with its hits and the
measures that apply; stored with an id (feedback refers to it). A name returns candidates only,
never a guess, and stores nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from xinyong import clock
from xinyong.accounts.roles import Principal
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.checks.deadline import DUE_COLUMNS, feedback_due
from xinyong.checks.facts import (
    _ROW_COLS,
    _classify_uscc,
    _Context,
    _context,
    _FactRow,
    _fetch_as_person,
    _fetch_one,
    _may_check,
    _split,
    _subject_state,
)
from xinyong.checks.models import check_hits, check_measures, checks
from xinyong.checks.rules import HitRow, evaluate
from xinyong.db import DriverStatement, result_processors
from xinyong.departments import service as departments
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.view import (
    Access,
    access_to,
    present_subject,
    visible_records,
)
from xinyong.errors import NotFound, XinyongError
from xinyong.evaluation import service as evaluation
from xinyong.lists.models import list_entries
from xinyong.measures.catalog import Measure, Measures
from xinyong.records import states
from xinyong.records.models import records
from xinyong.settings import Settings, get_settings
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.refs import PERSON
from xinyong.subjects.service import candidates_by_name, find_subject


@dataclass
class CheckResult:
    """The answer to a check. ``check_id`` is None when only candidates were returned."""

    matter: dict[str, str]
    check_id: int | None = None
    subject: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    hits: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    no_longer_triggered: list[dict[str, Any]] = field(default_factory=list)
    # rewards a punishment of this answer rules out, and red entries suspended (conflict rules)
    withheld_rewards: list[dict[str, Any]] = field(default_factory=list)
    suspended: list[dict[str, Any]] = field(default_factory=list)
    subject_state: list[str] = field(default_factory=list)
    checked_on: date | None = None
    deadline: date | None = None
    deadline_provisional: bool = False  # 暂定: counted through a year without a calendar
    # 分类监管: the subject's supervision class per evaluation model, with the inspection advice
    supervision: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "matter": self.matter,
            "subject": self.subject,
            "candidates": self.candidates,
            "hits": self.hits,
            "measures": self.measures,
            "no_longer_triggered": self.no_longer_triggered,
            "withheld_rewards": self.withheld_rewards,
            "suspended": self.suspended,
            "subject_state": self.subject_state,
            "checked_on": self.checked_on.isoformat() if self.checked_on else None,
            "feedback_deadline": self.deadline.isoformat() if self.deadline else None,
            "feedback_deadline_provisional": self.deadline_provisional,
            "supervision": self.supervision,
        }


def run_check(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    *,
    subject_code: str | None = None,
    subject_name: str | None = None,
    matter: str,
    case_ref: str | None = None,
    settings: Settings | None = None,
    today: date | None = None,
) -> CheckResult:
    """Check one subject, named by any code (or by name: candidates only) for ``matter``."""
    dept = _may_check(principal)
    on = answer_day(conn, today)
    ctx = _context(catalog, measures, matter, on)
    matter_info = {"code": ctx.matter, "name": measures.matters[ctx.matter].name}
    if not subject_code:
        if not subject_name or not subject_name.strip():
            raise XinyongError("SUBJECT_REQUIRED", "请提供主体代码或名称")
        found = candidates_by_name(conn, subject_name)
        return CheckResult(
            matter=matter_info,
            # checkers are government roles: codes are shown whole (disclosure rules)
            candidates=[{k: c[k] for k in ("id", "name", "uscc", "id_number")} for c in found],
        )
    subject, fetched = _subject_and_records(conn, ctx, subject_code)
    if subject.get("category") == PERSON:
        fetched += _fetch_as_person(conn, ctx, subject["id"])
    hits, history = _split(ctx, fetched)
    # the disclosure engine decides what the principal sees of each hit (asked only when there
    # are hits: nine checks in ten have none, and then there is nothing to show)
    visible = (
        {
            code
            for code in ctx.triggers
            if access_to(principal, catalog.dataset(code), subject) is not Access.NONE
        }
        if hits
        else set()
    )
    hits = [h for h in hits if h.dataset in visible]
    outcome = evaluate(
        measures,
        ctx.candidates,
        hits,
        history=history,
        dishonest=ctx.dishonest,
        black=ctx.black,
        on=on,
        rules=ctx.rules,
    )
    shown = (
        {
            r.id: r
            for r in visible_records(
                conn, catalog, principal, subject, datasets=sorted(visible), as_of=on
            )
        }
        if hits
        else {}
    )
    now = clock.now(conn)
    due = feedback_due(
        on,
        (settings or get_settings()).feedback_deadline_working_days,
        catalog.root,
        applies=bool(outcome.applies),
    )
    check_id: int = _RUN_INSERT_CHECK.execute(
        conn,
        {
            "kind": "single",
            "dept_uscc": dept,
            "actor": principal.name,
            "role": principal.role.value,
            "matter": ctx.matter,
            "case_ref": case_ref,
            "name": None,
            "subject_id": subject["id"],
            "rows": 1,
            "subjects": 1,
            "hits": len(hits),
            "previous_id": None,
            "checked_at": now,
            "checked_on": on,
            **due.columns(),
        },
    ).scalar_one()
    if hits:
        conn.execute(_INSERT_HITS, [_hit_row(check_id, h) for h in hits])
    if outcome.applies:
        conn.execute(
            _INSERT_MEASURES,
            [
                _measure_row(check_id, subject["id"], m, dept, because)
                for m, because in outcome.applies
            ],
        )
    audit.append_for(
        conn,
        principal,
        action="check.run",
        dept_uscc=dept,
        subject_id=subject["id"],
        purpose=measures.matters[ctx.matter].name,
        detail={
            "check_id": check_id,
            "matter": ctx.matter,
            "hits": len(hits),
            "measures": [m.id for m, _ in outcome.applies],
        },
    )
    names = tuple(n["name"] for n in subject.get("names", []) if n.get("kind") == "former")
    dept_names = departments.names(conn) if hits else {}
    suspended = {rid for rid, _, _ in outcome.suspended}
    return CheckResult(
        matter=matter_info,
        check_id=check_id,
        subject=present_subject(principal, subject, names).as_dict(),
        hits=[
            _hit_view(
                catalog, ctx, dept_names, h, shown.get(h.record_id) if h.via is None else None
            )
            for h in hits
            if h.record_id not in suspended
        ],
        measures=[_measure_view(m, because) for m, because in outcome.applies],
        withheld_rewards=[
            {**m.summary(), "withheld_by": by, "rule": rule.id, "reason": rule.reason}
            for m, rule, by in outcome.withheld
        ],
        suspended=[
            {
                "record_id": rid,
                "rule": rule.id,
                "reason": rule.reason,
                "basis": rule.basis_text(),
                "because_of": blocking,
            }
            for rid, rule, blocking in outcome.suspended
        ],
        no_longer_triggered=[
            {**m.summary(), "stopped_by": [ctx.rules.label(s) for s in st]}
            for m, st in outcome.stopped
        ],
        subject_state=_subject_state(ctx.rules, hits),
        checked_on=on,
        deadline=due.day,
        deadline_provisional=due.provisional,
        supervision=evaluation.supervision(conn, catalog, subject["id"]),
    )


# Statements of the single check, built once (see ``_records_statement``).
_SUBJECT_BY_USCC = (
    select(subjects)
    .where(or_(subjects.c.uscc == bindparam("uscc"), subjects.c.org_code == bindparam("org")))
    .order_by(subjects.c.uscc.is_(None))
    .limit(1)
)
_SUBJECT_BY_ID = select(subjects).where(subjects.c.id == bindparam("id"))
_SUBJECT_NAMES = select(subject_names.c.name, subject_names.c.kind).where(
    subject_names.c.subject_id == bindparam("id")
)
_INSERT_CHECK = insert(checks).returning(checks.c.id)
# the check's row, as driver SQL compiled once (every single check writes one)
_RUN_INSERT_CHECK = DriverStatement(
    _INSERT_CHECK,
    (
        "kind",
        "dept_uscc",
        "actor",
        "role",
        "matter",
        "case_ref",
        "name",
        "subject_id",
        "rows",
        "subjects",
        "hits",
        "previous_id",
        "checked_at",
        "checked_on",
        *DUE_COLUMNS,
    ),
)
_INSERT_HITS = insert(check_hits)
_INSERT_MEASURES = insert(check_measures)


_SUBJECT_COLUMNS = tuple(c.name for c in subjects.c)
_RECORD_COLUMNS = tuple(f"r_{c.name}" for c in _ROW_COLS)


@lru_cache(maxsize=64)
def _joined_statement(datasets: frozenset[str], dialect: str) -> Select[Any]:
    """The subject of a well-formed USCC, its names (as one JSON list) and its records in
    ``datasets`` with their list facts, in one statement: a row per record, or one row with
    no record. Built once per set of datasets and dialect (see ``_records_statement``)."""
    found = (
        select(subjects)
        .where(or_(subjects.c.uscc == bindparam("uscc"), subjects.c.org_code == bindparam("org")))
        .order_by(subjects.c.uscc.is_(None))
        .limit(1)
        .subquery("s")
    )
    names = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(subject_names.c.name, subject_names.c.kind),
                    subject_names.c.id,
                )
            )
            if dialect == "postgresql"
            # in index order, by id within the subject, as the separate read had them
            else func.json_group_array(func.json_array(subject_names.c.name, subject_names.c.kind))
        )
        .where(subject_names.c.subject_id == found.c.id)
        .scalar_subquery()
        .label("subject_names")
    )
    stmt = select(found, type_coerce(names, JSON))
    if not datasets:
        return stmt
    on = and_(
        records.c.subject_id == found.c.id,
        records.c.dataset.in_(_inline_codes(datasets)),
        records.c.state != states.WITHDRAWN,
    )
    return stmt.add_columns(
        *(c.label(name) for c, name in zip(_ROW_COLS, _RECORD_COLUMNS, strict=True))
    ).select_from(
        found.outerjoin(records, on).outerjoin(
            list_entries, list_entries.c.record_id == records.c.id
        )
    )


_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _inline_codes(codes: frozenset[str]) -> list[Any]:
    """Dataset codes written into the statement's text instead of bound: an IN list of bound
    values is an "expanding" parameter, and SQLAlchemy re-renders the statement around it on
    every execution (a tenth of a check's statement cost in the profile). Safe to inline: the
    catalogue's codes are ``[A-Z][A-Z0-9_]*`` (checked again here)."""
    for code in codes:
        if not _CODE.match(code):
            raise ValueError(f"not a catalogue code: {code!r}")
    return [literal_column(f"'{code}'") for code in sorted(codes)]


class _Joined:
    """``_joined_statement`` run as driver SQL (``DriverStatement``), its rows converted by
    the columns' own types: a row is the subject's columns, its names, then the record's
    columns (``_RECORD_COLUMNS``)."""

    def __init__(self, datasets: frozenset[str], dialect: Any) -> None:
        stmt = _joined_statement(datasets, dialect.name)
        self.run = DriverStatement(stmt)
        columns = list(stmt.selected_columns)
        names = [c.key for c in columns]
        self.processors = result_processors(dialect, columns)
        self.merged_into = names.index("merged_into")
        self.names = len(_SUBJECT_COLUMNS)  # the names' column follows the subject's
        assert names[: len(_SUBJECT_COLUMNS)] == list(_SUBJECT_COLUMNS)
        self.records = self.names + 1
        assert names[self.records :] == (list(_RECORD_COLUMNS) if datasets else [])

    def read(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        procs = self.processors
        return [
            tuple(v if p is None or v is None else p(v) for p, v in zip(procs, row, strict=True))
            for row in self.run.execute(conn, params).fetchall()
        ]


@lru_cache(maxsize=128)
def _joined(datasets: frozenset[str], dialect: Any) -> _Joined:
    return _Joined(datasets, dialect)


def _subject_and_records(
    conn: Connection, ctx: _Context, code: str
) -> tuple[dict[str, Any], list[Any]]:
    """The subject a code names (merges followed, with its names) and its records in the
    check's datasets. A well-formed USCC (what department systems send) is answered by one
    joined statement; any other code, and a subject merged into another, as before: the
    subject by ``_find_subject``, then its records."""
    kind, value = _classify_uscc(code)
    if kind == "uscc":
        joined = _joined(ctx.datasets, conn.dialect)
        rows = joined.read(conn, {"uscc": value, "org": value[8:17]})
        if not rows:
            raise NotFound("SUBJECT_NOT_FOUND", f"没有找到代码为 {code} 的信用主体")
        first = rows[0]
        if first[joined.merged_into] is None:
            subject = dict(zip(_SUBJECT_COLUMNS, first[: len(_SUBJECT_COLUMNS)], strict=True))
            subject["names"] = [
                {"name": name, "kind": kind} for name, kind in first[joined.names] or ()
            ]
            fetched: list[Any] = (
                [_FactRow(*r[joined.records :]) for r in rows if r[joined.records] is not None]
                if ctx.datasets
                else []
            )
            return subject, fetched
    subject = _find_subject(conn, code)
    return subject, _fetch_one(conn, ctx, subject["id"])


def _find_subject(conn: Connection, code: str) -> dict[str, Any]:
    """``find_subject`` with a fast path for a well-formed USCC (what department systems send):
    recognised by its check character alone, looked up by one prepared statement. Every other
    code goes through ``find_subject``; both answer alike (the subject, merges followed, with
    its names)."""
    kind, value = _classify_uscc(code)
    if kind != "uscc":
        return find_subject(conn, code)
    row = conn.execute(_SUBJECT_BY_USCC, {"uscc": value, "org": value[8:17]}).first()
    if row is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"没有找到代码为 {code} 的信用主体")
    subject = dict(row._mapping)
    while subject["merged_into"] is not None:  # follow the redirect of a merge
        subject = dict(conn.execute(_SUBJECT_BY_ID, {"id": subject["merged_into"]}).one()._mapping)
    subject["names"] = [
        dict(r._mapping) for r in conn.execute(_SUBJECT_NAMES, {"id": subject["id"]})
    ]
    return subject


def _hit_row(check_id: int, h: HitRow) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "subject_id": h.subject_id,
        "record_id": h.record_id,
        "dataset": h.dataset,
        "state": h.state,
        "dept_uscc": h.dept_uscc,
        "decision_date": h.decision_date,
        "valid_until": h.valid_until,
        "list_kind": h.list_kind,
        "via": list(h.via) if h.via else None,
    }


def _measure_row(
    check_id: int, subject_id: int, m: Measure, dept: str | None, because: list[int]
) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "subject_id": subject_id,
        "measure_id": m.id,
        "kind": m.kind.value,
        "obligation": m.obligation.value,
        "dept_uscc": dept,
        "because_of": because,
    }


def _hit_view(
    catalog: Catalog, ctx: _Context, dept_names: dict[str, str], h: HitRow, shown: Any
) -> dict[str, Any]:
    ds = catalog.dataset(h.dataset)
    kind = catalog.lists.kind(h.list_kind) if h.list_kind else None
    return {
        "list_kind": h.list_kind,
        "list_kind_name": kind.name if kind else None,
        "list_class": kind.list_class.value if kind else None,
        # HN-Reg art. 35: the subject checked is a responsible person of this organisation
        "responsible_for": (
            {"role": h.via[0], "organisation": h.via[1], "code": h.via[2]} if h.via else None
        ),
        "record_id": h.record_id,
        "dataset": h.dataset,
        "dataset_name": ds.name,
        "list_entry": h.listed,
        "state": h.state,
        "state_label": ctx.rules.label(h.state),
        "source_dept_uscc": h.dept_uscc,
        "source_dept_name": dept_names.get(h.dept_uscc, h.dept_uscc),
        "decision_date": h.decision_date.isoformat() if h.decision_date else None,
        "valid_until": h.valid_until.isoformat() if h.valid_until else None,
        "items": shown.as_dict()["items"] if shown is not None else [],
    }


def _measure_view(m: Measure, because: list[int]) -> dict[str, Any]:
    return {**m.summary(), "because_of": because, "clean_years": not because}
