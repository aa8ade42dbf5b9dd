"""The subject registry: find subjects by any identifier, create them, and link rows to them.

Linking is deterministic and by code only (河南省社会信用条例 art. 16: organisations by
统一社会信用代码, persons by 身份证号码): a USCC finds its subject directly, or a subject first
known by the 组织机构代码 embedded in it (positions 9–17), or by the 工商注册号 that the
法人登记基础信息 dataset recorded for it. Names never link on their own; they only suggest
candidates for the pending queue.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from xinyong import clock
from xinyong.codes import check_code, check_reg_no, normalize_code
from xinyong.db import bulk_insert, rows_by_keys, timestamp_param
from xinyong.errors import NotFound
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import PERSON, SubjectRef


def database_of(category: str, uscc: str | None) -> str:
    """Which of the three databases a subject belongs to."""
    if category == PERSON:
        return "自然人"
    if uscc is not None and uscc.startswith("11"):
        return "政务"  # 机构编制 / 机关
    return "法人"


@dataclass(slots=True)
class _Known:
    id: int
    name_norm: str
    uscc: str | None


def _fetch(conn: Connection, column: Any, values: set[str], extra: Any = None) -> dict[str, _Known]:
    found: dict[str, _Known] = {}
    where = [subjects.c.merged_into.is_(None)]
    if extra is not None:
        where.append(extra)
    rows = rows_by_keys(
        conn, (subjects.c.id, subjects.c.name_norm, subjects.c.uscc, column), column, values, *where
    )
    for sid, name_norm, uscc, key in rows:
        found.setdefault(key, _Known(sid, name_norm, uscc))
    return found


def link_subjects(conn: Connection, refs: Sequence[SubjectRef]) -> list[int | None]:
    """Subject id for each ref (``None`` for refs without any code), creating subjects as needed.

    Set-based: a handful of queries per call whatever the number of refs. Names are recorded
    separately (``record_names``), once it is known which rows were stored.
    """
    now = clock.now(conn)
    by_uscc = {r.uscc for r in refs if r.uscc}
    by_org = {r.org_code for r in refs if r.org_code and not r.uscc}
    by_ids = {r.id_number for r in refs if r.id_number}
    by_other = {r.other_id for r in refs if r.other_id and not r.id_number}
    by_reg = {r.reg_no for r in refs if r.reg_no and not r.uscc and not r.org_code}

    uscc_hit = _fetch(conn, subjects.c.uscc, by_uscc)
    # A USCC not seen yet may belong to a subject first known by its old codes.
    missing = {u for u in by_uscc if u not in uscc_hit}
    org_for_uscc = {u[8:17]: u for u in missing}
    old_by_org = _fetch(conn, subjects.c.org_code, set(org_for_uscc), subjects.c.uscc.is_(None))
    reg_for_uscc = {r.reg_no: r.uscc for r in refs if r.uscc in missing and r.reg_no}
    old_by_reg = _fetch(conn, subjects.c.reg_no, set(reg_for_uscc), subjects.c.uscc.is_(None))
    for org, known in old_by_org.items():
        uscc_hit.setdefault(org_for_uscc[org], known)
    for reg, known in old_by_reg.items():
        usc = reg_for_uscc[reg]
        if usc is not None:
            uscc_hit.setdefault(usc, known)
    upgrades = {u: k for u, k in uscc_hit.items() if k.uscc is None}
    for usc, known in upgrades.items():
        conn.execute(
            update(subjects)
            .where(subjects.c.id == known.id)
            .values(uscc=usc, org_code=usc[8:17], updated_at=now)
        )
        known.uscc = usc
    org_hit = _fetch(conn, subjects.c.org_code, by_org)
    id_hit = _fetch(conn, subjects.c.id_number, by_ids)
    other_hit = _fetch(conn, subjects.c.other_id, by_other)
    reg_hit = _fetch(conn, subjects.c.reg_no, by_reg)

    def lookup(r: SubjectRef) -> _Known | None:
        if r.uscc:
            return uscc_hit.get(r.uscc)
        if r.org_code:
            return org_hit.get(r.org_code)
        if r.id_number:
            return id_hit.get(r.id_number)
        if r.other_id:
            return other_hit.get(r.other_id)
        if r.reg_no:
            return reg_hit.get(r.reg_no)
        return None

    # Create what is still unknown, once per distinct code.
    # Refs sharing a key are one subject (a USCC and the 组织机构代码 it embeds): created once,
    # from the ref that says most (the USCC), whichever row of the file came first.
    to_create: dict[str, SubjectRef] = {}
    for r in refs:
        if r.has_code and lookup(r) is None:
            first = to_create.get(r.key)
            if first is None or (r.uscc and not first.uscc):
                to_create[r.key] = r
    if to_create:
        ts = timestamp_param(conn, now)
        new_rows = [
            {
                "category": r.category,
                "database": database_of(r.category, r.uscc),
                "name": r.name,
                "name_norm": r.name_norm,
                "uscc": r.uscc,
                "org_code": r.uscc[8:17] if r.uscc else r.org_code,
                "reg_no": r.reg_no,
                "id_number": r.id_number,
                "other_id": r.other_id if not r.id_number else None,
                "status": r.status,
                "created_at": ts,
                "updated_at": ts,
            }
            for r in to_create.values()
        ]
        bulk_insert(
            conn,
            subjects,
            list(new_rows[0]),
            [tuple(r.values()) for r in new_rows],
            one_statement=True,  # the full-text trigger on SQLite (db.bulk_insert)
        )
        # Read the new ids back by their codes: one query per code kind, not one per subject.
        created = list(to_create.values())
        uscc_hit.update(_fetch(conn, subjects.c.uscc, {r.uscc for r in created if r.uscc}))
        org_hit.update(
            _fetch(
                conn,
                subjects.c.org_code,
                {r.org_code for r in created if r.org_code and not r.uscc},
                subjects.c.uscc.is_(None),
            )
        )
        id_hit.update(
            _fetch(conn, subjects.c.id_number, {r.id_number for r in created if r.id_number})
        )
        other_hit.update(
            _fetch(
                conn,
                subjects.c.other_id,
                {r.other_id for r in created if r.other_id and not r.id_number},
            )
        )
        reg_hit.update(
            _fetch(
                conn,
                subjects.c.reg_no,
                {r.reg_no for r in created if r.reg_no and not r.uscc and not r.org_code},
                subjects.c.uscc.is_(None),
            )
        )

    created_by_key = {key: lookup(r) for key, r in to_create.items()}
    return [_id_of(lookup(r) or (created_by_key.get(r.key) if r.has_code else None)) for r in refs]


def _id_of(known: _Known | None) -> int | None:
    return None if known is None else known.id


def record_names(
    conn: Connection,
    refs: Sequence[SubjectRef],
    ids: Sequence[int],
    *,
    batch_id: int | None,
    authoritative: bool = False,
) -> None:
    """Remember the names the stored rows used for their subjects.

    Called for rows that were stored, so a rejected row never renames anybody. Other
    spellings are kept as 'seen'; 曾用名 as 'former'. ``authoritative`` marks the
    法人登记基础信息 dataset, whose name, 注册号 and status become the subject's own.
    """
    now = clock.now(conn)
    known = {
        sid: norm
        for sid, norm in rows_by_keys(
            conn, (subjects.c.id, subjects.c.name_norm), subjects.c.id, set(ids)
        )
    }
    names: dict[tuple[int, str], tuple[str, str]] = {}
    for r, sid in zip(refs, ids, strict=True):
        if r.name_norm and r.name_norm != known.get(sid):
            names.setdefault((sid, r.name_norm), (r.name, "seen"))
        for former in r.former_names:
            names[(sid, normalize_name(former))] = (former, "former")
    if authoritative:
        _apply_registration(conn, refs, ids, now, names)
    if names:
        _add_names(conn, names, batch_id, now)


def _apply_registration(
    conn: Connection,
    refs: Sequence[SubjectRef],
    ids: Sequence[int],
    now: datetime,
    names: dict[tuple[int, str], tuple[str, str]],
) -> None:
    """法人登记基础信息 is the source of a legal person's name, 注册号 and status.

    A renamed subject keeps the name it had as a former name (曾用名), whether or not the
    registration lists it; the new name is its current name, not merely one "seen".
    """
    current: dict[int, tuple[str, str]] = {}
    for sid, name, norm in rows_by_keys(
        conn,
        (subjects.c.id, subjects.c.name, subjects.c.name_norm),
        subjects.c.id,
        set(ids),
    ):
        current[sid] = (name, norm)
    for r, sid in zip(refs, ids, strict=True):
        old_name, old_norm = current[sid]
        if r.name_norm and old_norm != r.name_norm:
            names[(sid, old_norm)] = (old_name, "former")
            if names.get((sid, r.name_norm), ("", ""))[1] == "seen":
                del names[(sid, r.name_norm)]
            current[sid] = (r.name, r.name_norm)
        values: dict[str, Any] = {"name": r.name, "name_norm": r.name_norm, "updated_at": now}
        if r.reg_no:
            values["reg_no"] = r.reg_no
        if r.status:
            values["status"] = r.status
        conn.execute(update(subjects).where(subjects.c.id == sid).values(**values))


def _add_names(
    conn: Connection,
    names: dict[tuple[int, str], tuple[str, str]],
    batch_id: int | None,
    now: datetime,
) -> None:
    """Remember every other name a subject went by; skip those already known."""
    have = set(
        tuple(r)
        for r in rows_by_keys(
            conn,
            (subject_names.c.subject_id, subject_names.c.name_norm),
            subject_names.c.subject_id,
            {sid for sid, _ in names},
        )
    )
    rows = [
        {
            "subject_id": sid,
            "name": name,
            "name_norm": norm,
            "kind": kind,
            "first_batch_id": batch_id,
            "created_at": now,
        }
        for (sid, norm), (name, kind) in names.items()
        if (sid, norm) not in have
    ]
    if rows:
        conn.execute(insert(subject_names), rows)


# -- lookups for people ----------------------------------------------------------------------


def find_subject(conn: Connection, code: str) -> dict[str, Any]:
    """The subject named by any identifier: USCC, 组织机构代码, 工商注册号, 15/18-digit ID."""
    check = check_code(code, clock.today(conn))
    value = check.value
    if check.kind == "uscc":
        cond = or_(subjects.c.uscc == value, subjects.c.org_code == value[8:17])
    elif check.kind == "org_code":
        cond = subjects.c.org_code == value
    elif check.kind == "reg_no":
        cond = subjects.c.reg_no == value
    elif check.kind == "id_number":
        cond = subjects.c.id_number == value
        # A 15-digit 工商注册号 whose positions 7-12 form a 1900s date reads as an old ID
        # number too (410902000104581: "born 1900-01-04"); look it up as both.
        as_reg_no = check_reg_no(code) if len(normalize_code(code)) == 15 else None
        if as_reg_no is not None and as_reg_no.ok:
            cond = or_(cond, subjects.c.reg_no == as_reg_no.value)
    else:
        # another document (other_id is "类型:号码"): its number exactly, never a pattern (a
        # "%" or "_" typed as a code is text), and nothing no document number can hold
        if not value or any(unicodedata.category(ch)[0] == "C" for ch in value):
            raise NotFound("SUBJECT_NOT_FOUND", "没有找到该代码的信用主体")
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        cond = subjects.c.other_id.like(f"%:{escaped}", escape="\\")
    row = conn.execute(select(subjects).where(cond).order_by(subjects.c.uscc.is_(None))).first()
    if row is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"没有找到代码为 {code} 的信用主体")
    subject = dict(row._mapping)
    while subject["merged_into"] is not None:  # follow the redirect of a merge
        subject = dict(
            conn.execute(select(subjects).where(subjects.c.id == subject["merged_into"]))
            .one()
            ._mapping
        )
    subject["names"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(subject_names.c.name, subject_names.c.kind).where(
                subject_names.c.subject_id == subject["id"]
            )
        )
    ]
    return subject


def require_subject(conn: Connection, subject_id: int) -> int:
    """A subject id that names a stored subject (a merged one answers for its survivor)."""
    query = select(subjects.c.id, subjects.c.merged_into)
    row = conn.execute(query.where(subjects.c.id == subject_id)).first()
    if row is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"没有编号为 {subject_id} 的信用主体")
    while row.merged_into is not None:  # follow the redirect of a merge, as find_subject does
        row = conn.execute(query.where(subjects.c.id == row.merged_into)).one()
    return int(row.id)


def candidates_by_name(conn: Connection, name: str, limit: int = 5) -> list[dict[str, Any]]:
    """Subjects whose current or other name matches exactly after normalisation."""
    norm = normalize_name(name)
    ids = {
        r[0]
        for r in conn.execute(
            select(subjects.c.id).where(subjects.c.name_norm == norm).limit(limit)
        )
    }
    ids |= {
        r[0]
        for r in conn.execute(
            select(subject_names.c.subject_id).where(subject_names.c.name_norm == norm).limit(limit)
        )
    }
    if not ids:
        return []
    rows = conn.execute(
        select(subjects.c.id, subjects.c.name, subjects.c.uscc, subjects.c.id_number).where(
            subjects.c.id.in_(sorted(ids))
        )
    )
    return [dict(r._mapping) for r in rows]
