"""Operations on stored records: read with history, withdraw (撤销), link pending records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from xinyong import clock
from xinyong.accounts.policy import department_scope, require_may_act_on
from xinyong.accounts.roles import Principal
from xinyong.audit import service as audit
from xinyong.batches.models import batches
from xinyong.catalog.loader import Catalog
from xinyong.codes import check_code
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.records.keys import KEY_SEP
from xinyong.records.models import record_keys, record_versions, records
from xinyong.records.states import WITHDRAWN
from xinyong.subjects.models import subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import PERSON, SubjectRef
from xinyong.subjects.service import (
    candidates_by_name,
    database_of,
    link_subjects,
    record_names,
)


def get_record(conn: Connection, record_id: int) -> dict[str, Any]:
    row = conn.execute(select(records).where(records.c.id == record_id)).first()
    if row is None:
        raise NotFound("RECORD_NOT_FOUND", f"记录 {record_id} 不存在")
    return dict(row._mapping)


def history(conn: Connection, record_id: int) -> list[dict[str, Any]]:
    """Every earlier version of a record, oldest first (the current one is in ``records``)."""
    get_record(conn, record_id)
    rows = conn.execute(
        select(record_versions)
        .where(record_versions.c.record_id == record_id)
        .order_by(record_versions.c.version)
    )
    return [dict(r._mapping) for r in rows]


def records_of_subject(conn: Connection, subject_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(records)
        .where(records.c.subject_id == subject_id)
        .order_by(records.c.dataset, records.c.decision_date.desc(), records.c.id)
    )
    return [dict(r._mapping) for r in rows]


def withdraw(
    conn: Connection,
    record_id: int,
    *,
    dept_uscc: str,
    reason: str,
    actor: str,
    role: str = "operator",
    source: str | None = None,
) -> dict[str, Any]:
    """A department withdraws one of its records: kept, marked 已撤销, out of public view."""
    record = get_record(conn, record_id)
    if record["dept_uscc"] != dept_uscc:
        raise NotAllowed(
            "RECORD_NOT_OWNER", f"记录 {record_id} 由 {record['dept_uscc']} 报送，本部门不能撤销"
        )
    if record["state"] == WITHDRAWN:
        raise Conflict(
            "RECORD_ALREADY_WITHDRAWN", f"记录 {record_id} 已于 {record['withdrawn_at']} 撤销"
        )
    if not reason.strip():
        raise XinyongError("REASON_REQUIRED", "撤销须说明理由")
    now = clock.now(conn)
    audit.append(
        conn,
        actor=actor,
        role=role,
        action="record.withdraw",
        dept_uscc=dept_uscc,
        record_id=record_id,
        subject_id=record["subject_id"],
        purpose=reason.strip(),
        source=source,
    )
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(
            state=WITHDRAWN,
            withdrawn_at=now,
            withdrawn_by=actor,
            withdrawn_reason=reason.strip(),
            updated_at=now,
        )
    )
    return get_record(conn, record_id)


def pending(
    conn: Connection,
    *,
    dataset: str | None = None,
    limit: int = 100,
    dept_uscc: str | None = None,
    offset: int = 0,
    batch_id: int | None = None,
) -> list[dict[str, Any]]:
    """Records waiting for a clerk to link them to a subject, oldest first (of one dataset,
    of one department, of one batch, from the ``offset``-th)."""
    query = (
        select(
            records.c.id,
            records.c.dataset,
            records.c.dept_uscc,
            records.c.data,
            records.c.batch_id,
            records.c.row_no,
            records.c.pending_reason,
        )
        .where(records.c.subject_id.is_(None))
        .order_by(records.c.id)
        .limit(limit)
        .offset(offset)
    )
    if dataset:
        query = query.where(records.c.dataset == dataset)
    if dept_uscc:
        query = query.where(records.c.dept_uscc == dept_uscc)
    if batch_id is not None:
        query = query.where(records.c.batch_id == batch_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def pending_count(
    conn: Connection,
    *,
    dataset: str | None = None,
    dept_uscc: str | None = None,
    batch_id: int | None = None,
) -> int:
    """How many records wait for a link (of one dataset, of one department, of one batch)."""
    query = select(func.count()).select_from(records).where(records.c.subject_id.is_(None))
    if dataset:
        query = query.where(records.c.dataset == dataset)
    if dept_uscc:
        query = query.where(records.c.dept_uscc == dept_uscc)
    if batch_id is not None:
        query = query.where(records.c.batch_id == batch_id)
    return int(conn.scalar(query) or 0)


def pending_for(
    conn: Connection,
    principal: Principal,
    *,
    dataset: str | None = None,
    dept_uscc: str | None = None,
    limit: int = 20,
    offset: int = 0,
    batch_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The pending queue a principal may see: its department's (a clerk's), or every
    department's or the one named (operators, auditors); one page and the total."""
    scope = department_scope(principal)
    dept = scope if scope is not None else (dept_uscc or None)
    rows = pending(
        conn, dataset=dataset, dept_uscc=dept, limit=limit, offset=offset, batch_id=batch_id
    )
    return rows, pending_count(conn, dataset=dataset, dept_uscc=dept, batch_id=batch_id)


def pending_shown(
    conn: Connection, catalog: Catalog, found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Pending records as a page lists them: the name delivered, the dataset's name and the
    subjects of that name a clerk may mean."""
    shown = []
    for r in found:
        ds = catalog.datasets.get(r["dataset"])
        shown.append(
            {
                "record": r,
                "name": r["data"].get(ds.subject.name, "") if ds else "",
                "dataset": ds.name if ds else r["dataset"],
                "candidates": suggestions(conn, catalog, r) if ds else [],
            }
        )
    return shown


def link_pending_as(
    conn: Connection, catalog: Catalog, principal: Principal, record_id: int, code: str
) -> dict[str, Any]:
    """``link_pending`` by a principal: an operator for any department's record, a clerk or
    department system for its own department's only (another's is answered as missing)."""
    record = get_record(conn, record_id)
    require_may_act_on(
        principal,
        record["dept_uscc"],
        what="record",
        hide=True,
        message=f"记录 {record_id} 不存在",
    )
    return link_pending(
        conn,
        catalog,
        record_id,
        code,
        actor=principal.name,
        role=principal.role.value,
        source=principal.source or None,
    )


def suggestions(conn: Connection, catalog: Catalog, record: dict[str, Any]) -> list[dict[str, Any]]:
    ds = catalog.dataset(record["dataset"])
    name = record["data"].get(ds.subject.name, "")
    return candidates_by_name(conn, name) if name else []


def link_pending(
    conn: Connection,
    catalog: Catalog,
    record_id: int,
    code: str,
    *,
    actor: str,
    role: str = "operator",
    source: str | None = None,
) -> dict[str, Any]:
    """File a pending record under the subject that ``code`` names (created if new)."""
    record = get_record(conn, record_id)
    if record["subject_id"] is not None:
        raise Conflict("RECORD_NOT_PENDING", f"记录 {record_id} 已关联主体 {record['subject_id']}")
    check = check_code(code, clock.today(conn))
    if not check.ok:
        raise XinyongError(check.error or "CODE_INVALID", f"代码 {code} 无效：{check.message}")
    ds = catalog.dataset(record["dataset"])
    data = record["data"]
    name = data.get(ds.subject.name, "")
    category = (data.get(ds.subject.category) if ds.subject.category else None) or (
        ds.subject.default_category or ""
    )
    ref = SubjectRef(category=category, name=name, name_norm=normalize_name(name))
    value = check.value
    if check.kind == "uscc":
        ref.uscc = value
        if category == PERSON:
            raise XinyongError("CODE_KIND_MISMATCH", "该记录的主体是自然人，请用身份证号关联")
    elif check.kind == "org_code":
        ref.org_code = value
    elif check.kind == "reg_no":
        ref.reg_no = value
    elif check.kind == "id_number":
        if category != PERSON:
            raise XinyongError(
                "CODE_KIND_MISMATCH", "该记录的主体不是自然人，请用统一社会信用代码关联"
            )
        ref.id_number = value
    else:
        raise XinyongError("CODE_UNKNOWN", f"无法识别代码 {code} 的类型")
    (subject_id,) = link_subjects(conn, [ref])
    assert subject_id is not None
    record_names(conn, [ref], [subject_id], batch_id=None)
    old_key: str = record["natural_key"]
    parts = old_key.split(KEY_SEP)
    new_key = KEY_SEP.join(ref.key if p.startswith("N:") else p for p in parts)
    taken = conn.execute(
        select(records.c.id).where(
            records.c.dataset == record["dataset"],
            records.c.natural_key == new_key,
            records.c.id != record_id,
        )
    ).first()
    if taken is not None:
        raise Conflict(
            "RECORD_KEY_TAKEN",
            f"该主体已有同一业务主键的记录 {taken[0]}；请核对是否重复报送",
        )
    subject = conn.execute(select(subjects).where(subjects.c.id == subject_id)).one()
    # The department's next delivery of the same uncoded row must find this record.
    conn.execute(
        insert(record_keys).values(
            dataset=record["dataset"], natural_key=old_key, record_id=record_id
        )
    )
    now = clock.now(conn)
    # Keep what the record looked like before the link, like any other change.
    conn.execute(
        insert(record_versions).values(
            record_id=record_id,
            version=record["version"],
            subject_id=None,
            dept_uscc=record["dept_uscc"],
            state=record["state"],
            content_hash=record["content_hash"],
            data=record["data"],
            raw=record["raw"],
            batch_id=record["batch_id"],
            row_no=record["row_no"],
            valid_from=record["updated_at"],
            valid_to=now,
            superseded_by_batch=None,
            change=f"关联主体（{actor}）",
        )
    )
    audit.append(
        conn,
        actor=actor,
        role=role,
        action="subject.link",
        dept_uscc=record["dept_uscc"],
        record_id=record_id,
        subject_id=subject_id,
        source=source,
        detail={"code": value, "kind": check.kind},
    )
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(
            subject_id=subject_id,
            natural_key=new_key,
            version=record["version"] + 1,
            pending_reason=None,
            database=ds.database.value
            if ds.database
            else database_of(subject.category, subject.uscc),
            updated_at=now,
        )
    )
    return get_record(conn, record_id)


def original_row(
    headers: list[str], columns: list[str | None], data: dict[str, str], raw: dict[str, str]
) -> dict[str, str]:
    """The row as the department sent it, header by header, from a record's stored parts.

    ``raw`` holds the cells the normalised ``data`` does not reproduce; every other non-empty
    cell was stored as its item's value unchanged (ColumnPlan.raw_diff).
    """
    out: dict[str, str] = {}
    for at, header in enumerate(headers):
        cell = raw.get(str(at))
        if cell is None:
            code = columns[at] if at < len(columns) else None
            cell = data.get(code, "") if code else ""
        out[header] = cell
    return out


def original_of(conn: Connection, record: dict[str, Any]) -> dict[str, str]:
    batch = conn.execute(
        select(batches.c.headers, batches.c.columns).where(batches.c.id == record["batch_id"])
    ).one()
    return original_row(batch.headers or [], batch.columns or [], record["data"], record["raw"])
