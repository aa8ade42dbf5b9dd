"""The check (联合奖惩核查): before it grants a licence, awards a contract, pays a subsidy or
hands out an honour, a department asks about a subject for a business matter and is answered
with the hits (list entries and records) and the reward and punishment measures that apply.

Only department principals (clerk, department system) and operators may check; a department
sees only its own checks. What a hit shows is decided by the disclosure engine. Every check
that names a subject is stored with an id (feedback refers to it); a name returns candidates
only, never a guess, and stores nothing.

The bulk check answers up to 100,000 subjects set-based: subjects by code for the whole input
in key order (``rows_by_keys``), their records in one query per 2,000 subjects, the rules in
memory (once for all subjects without any record), the results written with bulk inserts;
and the difference from the department's previous bulk check of the same name (new hits, gone
hits, changed states).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    any_,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.checks.deadline import feedback_due
from xinyong.checks.models import check_hits, check_measures, checks
from xinyong.checks.rules import HIT_STATES, HitRow, Outcome, evaluate
from xinyong.codes import check_code, normalize_code, uscc_check_char
from xinyong.db import bulk_insert, rows_by_keys
from xinyong.disclosure.view import (
    STATE_LABELS,
    Access,
    access_to,
    present_subject,
    visible_records,
)
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.lists.models import list_entries
from xinyong.lists.service import EXITED, ExitReason, today_beijing
from xinyong.measures.catalog import Kind, Measure, Measures
from xinyong.records import states
from xinyong.records.models import records
from xinyong.settings import Settings, get_settings
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.service import candidates_by_name, find_subject

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
    dishonest: frozenset[str]
    black: frozenset[str]
    on: date


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
    triggers = frozenset(t.dataset for c in candidates for t in c.triggers if t.dataset)
    needs_history = any(t.clean_years for c in candidates for t in c.triggers)
    dishonest = frozenset(c for c, d in catalog.datasets.items() if d.nature.value == "失信")
    black = frozenset(c for c, d in catalog.datasets.items() if d.list_kind == "black")
    datasets = triggers | (dishonest | black if needs_history else frozenset())
    return _Context(m.code, candidates, datasets, triggers, dishonest, black, on)


_ROW_COLS = (
    records.c.id,
    records.c.subject_id,
    records.c.dataset,
    records.c.state,
    records.c.dept_uscc,
    records.c.decision_date,
    records.c.data,
    list_entries.c.status,
    list_entries.c.valid_until,
    list_entries.c.exit_reason,
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


def _split(ctx: _Context, rows: Iterable[Any]) -> tuple[list[HitRow], list[HitRow]]:
    """(hits in force, every row) from the fetched rows of one subject."""
    hits: list[HitRow] = []
    history: list[HitRow] = []
    for r in rows:
        listed = r.status is not None
        valid_until = r.valid_until
        h = HitRow(
            r.id,
            r.subject_id,
            r.dataset,
            r.state,
            r.dept_uscc,
            r.decision_date,
            valid_until,
            r.data if isinstance(r.data, dict) else {},
            listed,
        )
        history.append(h)
        if r.dataset not in ctx.triggers or r.state not in HIT_STATES:
            continue
        if valid_until is not None and valid_until < ctx.on:
            continue
        if r.status == EXITED and r.exit_reason != ExitReason.REPAIRED.value:
            continue
        hits.append(h)
    return hits, history


def _subject_state(hits: list[HitRow]) -> list[str]:
    found = {h.state for h in hits if h.state in (states.OBJECTED, states.REPAIRED)}
    return [STATE_LABELS[s] for s in (states.OBJECTED, states.REPAIRED) if s in found]


# -- single check ------------------------------------------------------------------------------


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
    subject_state: list[str] = field(default_factory=list)
    checked_on: date | None = None
    deadline: date | None = None
    deadline_provisional: bool = False  # 暂定: counted through a year without a calendar

    def as_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "matter": self.matter,
            "subject": self.subject,
            "candidates": self.candidates,
            "hits": self.hits,
            "measures": self.measures,
            "no_longer_triggered": self.no_longer_triggered,
            "subject_state": self.subject_state,
            "checked_on": self.checked_on.isoformat() if self.checked_on else None,
            "feedback_deadline": self.deadline.isoformat() if self.deadline else None,
            "feedback_deadline_provisional": self.deadline_provisional,
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
    on = today or today_beijing()
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
    subject = _find_subject(conn, subject_code)
    hits, history = _split(ctx, _fetch_one(conn, ctx, subject["id"]))
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
    )
    shown = (
        {
            r.id: r
            for r in visible_records(conn, catalog, principal, subject, datasets=sorted(visible))
        }
        if hits
        else {}
    )
    now = datetime.now(UTC)
    due = feedback_due(
        on,
        (settings or get_settings()).feedback_deadline_working_days,
        catalog.root,
        applies=bool(outcome.applies),
    )
    check_id: int = conn.execute(
        _INSERT_CHECK,
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
            [_measure_row(check_id, subject["id"], m, dept) for m, _ in outcome.applies],
        )
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="check.run",
        dept_uscc=dept,
        subject_id=subject["id"],
        source=principal.source or None,
        purpose=measures.matters[ctx.matter].name,
        detail={
            "check_id": check_id,
            "matter": ctx.matter,
            "hits": len(hits),
            "measures": [m.id for m, _ in outcome.applies],
        },
    )
    names = tuple(n["name"] for n in subject.get("names", []) if n.get("kind") == "former")
    return CheckResult(
        matter=matter_info,
        check_id=check_id,
        subject=present_subject(principal, subject, names).as_dict(),
        hits=[_hit_view(catalog, h, shown.get(h.record_id)) for h in hits],
        measures=[_measure_view(m, because) for m, because in outcome.applies],
        no_longer_triggered=[
            {**m.summary(), "stopped_by": [STATE_LABELS[s] for s in st]}
            for m, st in outcome.stopped
        ],
        subject_state=_subject_state(hits),
        checked_on=on,
        deadline=due.day,
        deadline_provisional=due.provisional,
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
_INSERT_HITS = insert(check_hits)
_INSERT_MEASURES = insert(check_measures)


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
    }


def _measure_row(check_id: int, subject_id: int, m: Measure, dept: str | None) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "subject_id": subject_id,
        "measure_id": m.id,
        "kind": m.kind.value,
        "obligation": m.obligation.value,
        "dept_uscc": dept,
    }


def _hit_view(catalog: Catalog, h: HitRow, shown: Any) -> dict[str, Any]:
    dept = catalog.departments.get(h.dept_uscc)
    ds = catalog.dataset(h.dataset)
    return {
        "record_id": h.record_id,
        "dataset": h.dataset,
        "dataset_name": ds.name,
        "list_entry": h.listed,
        "state": h.state,
        "state_label": STATE_LABELS.get(h.state, h.state),
        "source_dept_uscc": h.dept_uscc,
        "source_dept_name": dept.name if dept else h.dept_uscc,
        "decision_date": h.decision_date.isoformat() if h.decision_date else None,
        "valid_until": h.valid_until.isoformat() if h.valid_until else None,
        "items": shown.as_dict()["items"] if shown is not None else [],
    }


def _measure_view(m: Measure, because: list[int]) -> dict[str, Any]:
    return {**m.summary(), "because_of": because, "clean_years": not because}


# -- reading checks ------------------------------------------------------------------------------


def get_check(conn: Connection, principal: Principal, check_id: int) -> dict[str, Any]:
    """A stored check with its hits and measures; another department's check is not found."""
    if not principal.is_government:
        raise NotAllowed("CHECK_NOT_ALLOWED", "核查记录仅供政府部门查看")
    row = conn.execute(select(checks).where(checks.c.id == check_id)).first()
    if row is None or not _may_see(principal, row.dept_uscc):
        raise NotFound("CHECK_NOT_FOUND", f"没有编号为 {check_id} 的核查")
    out = dict(row._mapping)
    out["hits"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(check_hits).where(check_hits.c.check_id == check_id).order_by(check_hits.c.id)
        )
    ]
    out["measures"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(check_measures)
            .where(check_measures.c.check_id == check_id)
            .order_by(check_measures.c.id)
        )
    ]
    return out


def _may_see(principal: Principal, dept_uscc: str | None) -> bool:
    if principal.role in (Role.OPERATOR, Role.AUDITOR):
        return True
    return principal.role in DEPARTMENT_ROLES and principal.dept_uscc == dept_uscc


def list_checks(conn: Connection, principal: Principal, *, limit: int = 50) -> list[dict[str, Any]]:
    """The principal's department's checks, newest first (all of them for the operator)."""
    _may_check(principal) if principal.role is not Role.AUDITOR else None
    q = select(checks).order_by(checks.c.id.desc()).limit(limit)
    if principal.role in DEPARTMENT_ROLES:
        q = q.where(checks.c.dept_uscc == principal.dept_uscc)
    return [dict(r._mapping) for r in conn.execute(q)]


# -- bulk check ----------------------------------------------------------------------------------


@dataclass(slots=True)
class BulkRow:
    """One input row of a bulk check, answered."""

    row_no: int
    given: str
    status: str  # 已核查 / 未找到 / 代码无效 / 仅名称（需代码）
    subject_id: int | None = None
    name: str | None = None
    code: str | None = None
    hits: list[str] = field(default_factory=list)  # "数据集名称#记录号(状态)"
    must: list[str] = field(default_factory=list)
    may: list[str] = field(default_factory=list)
    rewards: list[str] = field(default_factory=list)
    no_longer: list[str] = field(default_factory=list)
    subject_state: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)


@dataclass
class BulkResult:
    check_id: int
    matter: dict[str, str]
    name: str | None
    previous_id: int | None
    rows: list[BulkRow]
    new_hits: int = 0
    gone_hits: int = 0
    changed_hits: int = 0
    deadline: date | None = None
    deadline_provisional: bool = False  # 暂定: counted through a year without a calendar

    def summary(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for r in self.rows:
            by_status[r.status] = by_status.get(r.status, 0) + 1
        return {
            "check_id": self.check_id,
            "matter": self.matter,
            "name": self.name,
            "previous_check_id": self.previous_id,
            "rows": len(self.rows),
            "by_status": by_status,
            "subjects_with_hits": sum(1 for r in self.rows if r.hits),
            "new_hits": self.new_hits,
            "gone_hits": self.gone_hits,
            "changed_hits": self.changed_hits,
            "feedback_deadline": self.deadline.isoformat() if self.deadline else None,
            "feedback_deadline_provisional": self.deadline_provisional,
        }


_SUBJECT_COLS = (
    subjects.c.id,
    subjects.c.name,
    subjects.c.uscc,
    subjects.c.org_code,
    subjects.c.reg_no,
    subjects.c.id_number,
    subjects.c.category,
    subjects.c.merged_into,
)


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


def _classify(given: str) -> tuple[str | None, str]:
    """The code kind to look ``given`` up by: a USCC by its check character, anything else
    through ``check_code``."""
    kind, v = _classify_uscc(given)
    if kind is not None:
        return kind, v
    chk = check_code(given)
    if chk.kind == "unknown" or (not chk.ok and chk.kind not in ("id_number", "reg_no")):
        return None, chk.value
    return chk.kind, chk.value


def _resolve_codes(conn: Connection, codes: dict[int, str]) -> dict[int, Any]:
    """Subject rows for the input rows' codes (row index → row), set-based per code kind."""
    kinds: dict[str, dict[str, list[int]]] = {}
    for idx, given in codes.items():
        kind, value = _classify(given)
        if kind is not None:
            kinds.setdefault(kind, {}).setdefault(value, []).append(idx)
    found: dict[int, Any] = {}

    def take(column: Any, wanted: dict[str, list[int]], key_of: Any = None, *where: Any) -> None:
        keys = {key_of(v) if key_of else v: v for v in wanted}
        for row in rows_by_keys(conn, (*_SUBJECT_COLS, column), column, keys, *where):
            for idx in wanted[keys[row[-1]]]:
                found.setdefault(idx, row)

    usccs = kinds.get("uscc", {})
    take(subjects.c.uscc, usccs)
    # a USCC not known yet may belong to a subject first known by its organisation code
    missing = {v: ix for v, ix in usccs.items() if not all(i in found for i in ix)}
    take(subjects.c.org_code, missing, lambda v: v[8:17], subjects.c.uscc.is_(None))
    take(subjects.c.org_code, kinds.get("org_code", {}))
    take(subjects.c.id_number, kinds.get("id_number", {}))
    take(subjects.c.reg_no, kinds.get("reg_no", {}))
    merged = {r.merged_into for r in found.values() if r.merged_into is not None}
    if merged:  # follow merges (one level per pass; merges are rare)
        targets = {r.id: r for r in rows_by_keys(conn, _SUBJECT_COLS, subjects.c.id, merged)}
        for idx, r in list(found.items()):
            if r.merged_into in targets:
                found[idx] = targets[r.merged_into]
    return found


def _names_to_candidates(conn: Connection, names: dict[int, str]) -> dict[int, list[str]]:
    norms: dict[str, list[int]] = {}
    for idx, n in names.items():
        norms.setdefault(normalize_name(n), []).append(idx)
    hits: dict[str, set[int]] = {}
    for sid, norm in rows_by_keys(
        conn, (subjects.c.id, subjects.c.name_norm), subjects.c.name_norm, norms
    ):
        hits.setdefault(norm, set()).add(sid)
    for sid, norm in rows_by_keys(
        conn,
        (subject_names.c.subject_id, subject_names.c.name_norm),
        subject_names.c.name_norm,
        norms,
    ):
        hits.setdefault(norm, set()).add(sid)
    ids = {s for v in hits.values() for s in v}
    codes = {
        r.id: r.uscc or r.id_number or r.org_code or ""
        for r in rows_by_keys(conn, _SUBJECT_COLS, subjects.c.id, ids)
    }
    out: dict[int, list[str]] = {}
    for norm, idxs in norms.items():
        cands = sorted(codes.get(s, "") for s in hits.get(norm, set()))
        for idx in idxs:
            out[idx] = cands[:5]
    return out


def _previous(conn: Connection, dept: str | None, name: str) -> int | None:
    q = select(checks.c.id).where(checks.c.kind == "bulk", checks.c.name == name)
    q = q.where(checks.c.dept_uscc.is_(None) if dept is None else checks.c.dept_uscc == dept)
    return conn.execute(q.order_by(checks.c.id.desc()).limit(1)).scalar()


def run_bulk_check(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    rows: Iterable[tuple[str | None, str | None]],
    *,
    matter: str,
    name: str | None = None,
    settings: Settings | None = None,
    today: date | None = None,
) -> BulkResult:
    """Check up to 100,000 subjects, each given as (code, name); one answer row per input row.

    Rows with a code are checked by it; rows with only a name get candidates, never a guess.
    With ``name``, the result is compared with the department's previous bulk check of that
    name. Only subjects with hits have their measures stored for feedback; the clean-years
    rewards of subjects without hits appear in the answer only.
    """
    dept = _may_check(principal)
    on = today or today_beijing()
    ctx = _context(catalog, measures, matter, on)
    given = list(rows)
    if len(given) > MAX_BULK_ROWS:
        raise XinyongError(
            "BULK_TOO_MANY", f"批量核查一次最多 {MAX_BULK_ROWS:,} 个主体，本次 {len(given):,} 个"
        )
    if not given:
        raise XinyongError("BULK_EMPTY", "批量核查文件没有数据行")
    previous_id = _previous(conn, dept, name) if name else None
    prev: dict[tuple[int, int], str] = {}
    if previous_id is not None:
        for sid, rid, st in conn.execute(
            select(check_hits.c.subject_id, check_hits.c.record_id, check_hits.c.state).where(
                check_hits.c.check_id == previous_id
            )
        ):
            prev[(sid, rid)] = st
    now = datetime.now(UTC)
    check_id: int = conn.execute(
        insert(checks).returning(checks.c.id),
        {
            "kind": "bulk",
            "dept_uscc": dept,
            "actor": principal.name,
            "role": principal.role.value,
            "matter": ctx.matter,
            "case_ref": None,
            "name": name,
            "subject_id": None,
            "rows": len(given),
            "subjects": 0,
            "hits": 0,
            "previous_id": previous_id,
            "checked_at": now,
            "checked_on": on,
            "deadline": None,
        },
    ).scalar_one()
    out: list[BulkRow] = []
    result = BulkResult(
        check_id,
        {"code": ctx.matter, "name": measures.matters[ctx.matter].name},
        name,
        previous_id,
        out,
    )
    # Answer rows are freed by reference counting; the cyclic collector would only re-scan
    # the growing list of 100,000 rows again and again (as in ingestion).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _bulk_loop(
            conn, catalog, measures, principal, ctx, given, result, prev, dept, name, on, settings
        )
    finally:
        if gc_was_enabled:
            gc.enable()


def _bulk_loop(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    ctx: _Context,
    given: list[tuple[str | None, str | None]],
    result: BulkResult,
    prev: dict[tuple[int, int], str],
    dept: str | None,
    name: str | None,
    on: date,
    settings: Settings | None,
) -> BulkResult:
    check_id, previous_id, out = result.check_id, result.previous_id, result.rows
    seen_subjects: set[int] = set()
    hits_total = 0
    any_measure = False
    current: set[tuple[int, int]] = set()
    nothing: tuple[list[str], list[str], list[str]] | None = None
    # Subjects and their records are looked up for the whole input at once: the lookups then
    # go through the indexes in key order (neighbouring keys share pages), not 50 times over
    # the whole key range.
    found_all = _resolve_codes(
        conn, {i: c.strip() for i, (c, _) in enumerate(given) if c and c.strip()}
    )
    by_subject: dict[int, list[Any]] = {}
    for r in _fetch_rows(conn, ctx, {r.id for r in found_all.values()}):
        by_subject.setdefault(r.subject_id, []).append(r)
    for start in range(0, len(given), CHUNK):
        part = given[start : start + CHUNK]
        chunk_rows = [
            BulkRow(start + i + 1, (c or n or "").strip(), "") for i, (c, n) in enumerate(part)
        ]
        codes = {i: c.strip() for i, (c, _) in enumerate(part) if c and c.strip()}
        names = {
            i: n.strip()
            for i, (c, n) in enumerate(part)
            if not (c and c.strip()) and n and n.strip()
        }
        cands = _names_to_candidates(conn, names) if names else {}
        hit_rows: list[tuple[Any, ...]] = []
        measure_rows: list[tuple[Any, ...]] = []
        for i, row in enumerate(chunk_rows):
            subj = found_all.get(start + i)
            if subj is None:
                if i in names:
                    row.status = "仅名称（需代码）"
                    row.candidates = cands.get(i, [])
                elif i in codes:
                    chk = check_code(codes[i])
                    row.status = "未找到" if chk.ok else "代码无效"
                else:
                    row.status = "空行"
                continue
            row.status = "已核查"
            row.subject_id, row.name = subj.id, subj.name
            row.code = subj.uscc or subj.id_number or subj.org_code or subj.reg_no
            fetched = by_subject.get(subj.id)
            if fetched is None:
                # Nine subjects in ten have no record the rules look at: their answer is the
                # same for all (only clean-years rewards can apply), decided once.
                if nothing is None:
                    nothing = _nothing_found(catalog, measures, ctx)
                row.rewards, row.must, row.may = (list(x) for x in nothing)
                seen_subjects.add(subj.id)
                continue
            hits, history = _split(ctx, fetched)
            hits = [
                h
                for h in hits
                if access_to(principal, catalog.dataset(h.dataset), subj._mapping)
                is not Access.NONE
            ]
            outcome = evaluate(
                measures,
                ctx.candidates,
                hits,
                history=history,
                dishonest=ctx.dishonest,
                black=ctx.black,
                on=on,
            )
            _fill(row, catalog, hits, outcome, prev)
            first_time = subj.id not in seen_subjects
            seen_subjects.add(subj.id)
            for h in hits:
                current.add((subj.id, h.record_id))
            if first_time and hits:
                hits_total += len(hits)
                hit_rows.extend(
                    (
                        check_id,
                        h.subject_id,
                        h.record_id,
                        h.dataset,
                        h.state,
                        h.dept_uscc,
                        _iso(h.decision_date),
                        _iso(h.valid_until),
                    )
                    for h in hits
                )
                for m, _ in outcome.applies:
                    any_measure = True
                    measure_rows.append(
                        (check_id, subj.id, m.id, m.kind.value, m.obligation.value, dept)
                    )
        if hit_rows:
            bulk_insert(conn, check_hits, _HIT_COLS, hit_rows)
        if measure_rows:
            bulk_insert(conn, check_measures, _MEASURE_COLS, measure_rows)
        out.extend(chunk_rows)
    result.new_hits = len(current - set(prev))
    result.changed_hits = sum(1 for r in out for c in r.changes if c.startswith("状态变化"))
    gone = {k for k in prev if k not in current and k[0] in seen_subjects}
    result.gone_hits = len(gone)
    if gone:
        by_sid: dict[int, list[int]] = {}
        for sid, rid in gone:
            by_sid.setdefault(sid, []).append(rid)
        for r in out:
            if r.subject_id in by_sid and r.status == "已核查":
                r.changes.extend(f"消失命中：记录#{rid}" for rid in sorted(by_sid[r.subject_id]))
    if previous_id is None:
        for r in out:
            r.changes = []
    due = feedback_due(
        on,
        (settings or get_settings()).feedback_deadline_working_days,
        catalog.root,
        applies=any_measure,
    )
    result.deadline = due.day
    result.deadline_provisional = due.provisional
    conn.execute(
        update(checks)
        .where(checks.c.id == check_id)
        .values(subjects=len(seen_subjects), hits=hits_total, **due.columns())
    )
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="check.bulk",
        dept_uscc=dept,
        source=principal.source or None,
        purpose=measures.matters[ctx.matter].name,
        detail={
            "check_id": check_id,
            "matter": ctx.matter,
            "rows": len(given),
            "subjects": len(seen_subjects),
            "hits": hits_total,
            "name": name,
        },
    )
    return result


_HIT_COLS = (
    "check_id",
    "subject_id",
    "record_id",
    "dataset",
    "state",
    "dept_uscc",
    "decision_date",
    "valid_until",
)
_MEASURE_COLS = ("check_id", "subject_id", "measure_id", "kind", "obligation", "dept_uscc")


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _nothing_found(
    catalog: Catalog, measures: Measures, ctx: _Context
) -> tuple[list[str], list[str], list[str]]:
    """(rewards, must, may) of a subject without any record the rules look at, as ``_fill``
    would set them."""
    row = BulkRow(0, "", "", subject_id=0)
    outcome = evaluate(
        measures,
        ctx.candidates,
        [],
        history=[],
        dishonest=ctx.dishonest,
        black=ctx.black,
        on=ctx.on,
    )
    assert not outcome.stopped  # nothing can be stopped without a hit
    _fill(row, catalog, [], outcome, {})
    return row.rewards, row.must, row.may


def _fill(
    row: BulkRow,
    catalog: Catalog,
    hits: list[HitRow],
    outcome: Outcome,
    prev: dict[tuple[int, int], str],
) -> None:
    sid = row.subject_id
    assert sid is not None
    for h in hits:
        label = STATE_LABELS.get(h.state, h.state)
        row.hits.append(f"{catalog.dataset(h.dataset).name}#{h.record_id}（{label}）")
        before = prev.get((sid, h.record_id))
        if before is None:
            row.changes.append(f"新增命中：{catalog.dataset(h.dataset).name}#{h.record_id}")
        elif before != h.state:
            row.changes.append(
                f"状态变化：#{h.record_id} {STATE_LABELS.get(before, before)}→{label}"
            )
    for m, _ in outcome.applies:
        if m.kind is Kind.REWARD:
            row.rewards.append(m.id)
        elif m.obligation.value == "must":
            row.must.append(m.id)
        else:
            row.may.append(m.id)
    row.no_longer = [m.id for m, _ in outcome.stopped]
    row.subject_state = _subject_state(hits)
