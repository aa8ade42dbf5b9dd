"""The bulk check (批量核查) answers up to 100,000 subjects set-based: subjects by code for the
whole input in key order (``rows_by_keys``), their records in one query per 2,000 subjects, the
rules in memory (once for all subjects without any record), the results written with bulk
inserts; and the difference from the department's previous bulk check of the same name (new
hits, gone hits, changed states)."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from xinyong import clock
from xinyong.accounts.roles import Principal
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.checks.deadline import feedback_due
from xinyong.checks.facts import (
    CHUNK,
    MAX_BULK_ROWS,
    _classify_uscc,
    _Context,
    _context,
    _fetch_as_persons,
    _fetch_rows,
    _may_check,
    _split,
    _subject_state,
)
from xinyong.checks.models import check_hits, check_measures, checks
from xinyong.checks.rules import HitRow, Outcome, evaluate
from xinyong.codes import check_code
from xinyong.db import bulk_insert, dumps, rows_by_keys
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.state_rules import state_rules
from xinyong.disclosure.view import (
    Access,
    access_to,
)
from xinyong.errors import XinyongError
from xinyong.evaluation import service as evaluation
from xinyong.measures.catalog import Kind, Measures
from xinyong.settings import Settings, get_settings
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import PERSON


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
    # HN-Reg art. 35: "名单类别#记录号：角色，组织名称（代码）" where the subject checked is a
    # responsible person of a listed organisation
    responsible_for: list[str] = field(default_factory=list)
    must: list[str] = field(default_factory=list)
    may: list[str] = field(default_factory=list)
    rewards: list[str] = field(default_factory=list)
    no_longer: list[str] = field(default_factory=list)
    subject_state: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    supervision: str = ""  # 分类监管: class and inspection ratio per evaluation model
    supervision_advice: str = ""  # the inspection-frequency advice the model attaches to it


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


def _classify(given: str, today: date) -> tuple[str | None, str]:
    """The code kind to look ``given`` up by: a USCC by its check character, anything else
    through ``check_code``."""
    kind, v = _classify_uscc(given)
    if kind is not None:
        return kind, v
    chk = check_code(given, today)
    if chk.kind == "unknown" or (not chk.ok and chk.kind not in ("id_number", "reg_no")):
        return None, chk.value
    return chk.kind, chk.value


def _resolve_codes(conn: Connection, codes: dict[int, str]) -> dict[int, Any]:
    """Subject rows for the input rows' codes (row index → row), set-based per code kind."""
    kinds: dict[str, dict[str, list[int]]] = {}
    on = clock.today(conn)
    for idx, given in codes.items():
        kind, value = _classify(given, on)
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
    on = answer_day(conn, today)
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
    now = clock.now(conn)
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
        done = _bulk_loop(
            conn, catalog, measures, principal, ctx, given, result, prev, dept, name, on, settings
        )
        classes = evaluation.supervision_of(
            conn, catalog, (r.subject_id for r in done.rows if r.subject_id is not None)
        )
        for r in done.rows:
            if r.subject_id is not None:
                found = classes.get(r.subject_id, [])
                r.supervision = evaluation.supervision_text(found)
                r.supervision_advice = evaluation.supervision_advice(found)
        return done
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
    # a person named on an organisation's list entry (HN-Reg art. 35), as the single check
    persons = {r.id for r in found_all.values() if r.category == PERSON}
    for sid, via in _fetch_as_persons(conn, ctx, persons).items():
        by_subject.setdefault(sid, []).extend(via)
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
                    chk = check_code(codes[i], clock.today(conn))
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
                rules=ctx.rules,
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
                        subj.id,  # the subject checked (a responsible person's own row)
                        h.record_id,
                        h.dataset,
                        h.state,
                        h.dept_uscc,
                        _iso(h.decision_date),
                        _iso(h.valid_until),
                        h.list_kind,
                        dumps(list(h.via)) if h.via else None,
                    )
                    for h in hits
                )
                for m, because in outcome.applies:
                    any_measure = True
                    measure_rows.append(
                        (
                            check_id,
                            subj.id,
                            m.id,
                            m.kind.value,
                            m.obligation.value,
                            dept,
                            dumps(because),  # which entries triggered it, as a single check keeps
                        )
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
    audit.append_for(
        conn,
        principal,
        action="check.bulk",
        dept_uscc=dept,
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
    "list_kind",
    "via",
)
_MEASURE_COLS = (
    "check_id",
    "subject_id",
    "measure_id",
    "kind",
    "obligation",
    "dept_uscc",
    "because_of",
)


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
        rules=ctx.rules,
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
    rules = state_rules(catalog.root)
    for h in hits:
        label = rules.label(h.state)
        row.hits.append(f"{catalog.dataset(h.dataset).name}#{h.record_id}（{label}）")
        if h.via is not None:
            kind = catalog.lists.kind(h.list_kind) if h.list_kind else None
            what = kind.name if kind else catalog.dataset(h.dataset).name
            role, org, code = h.via
            row.responsible_for.append(f"{what}#{h.record_id}：{role}，{org}（{code}）")
        before = prev.get((sid, h.record_id))
        if before is None:
            row.changes.append(f"新增命中：{catalog.dataset(h.dataset).name}#{h.record_id}")
        elif before != h.state:
            row.changes.append(f"状态变化：#{h.record_id} {rules.label(before)}→{label}")
    for m, _ in outcome.applies:
        if m.kind is Kind.REWARD:
            row.rewards.append(m.id)
        elif m.obligation.value == "must":
            row.must.append(m.id)
        else:
            row.may.append(m.id)
    row.no_longer = [m.id for m, _ in outcome.stopped]
    row.subject_state = _subject_state(rules, hits)
