"""Reading delivery batches back: the list, and one batch with its rejects and warnings, a page
at a time (a batch may hold hundreds of thousands of rejected rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from xinyong.accounts.policy import department_scope, require_may_act_on
from xinyong.accounts.roles import Principal
from xinyong.audit import service as audit
from xinyong.batches.models import batch_rejects, batch_warnings, batches
from xinyong.batches.problems import Problem
from xinyong.batches.rejects import RejectsWriter, reason_text
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA
from xinyong.errors import NotFound, XinyongError

# Rejected rows (and warnings) per page of a receipt, in the API and on the pages.
MAX_REJECTS_PAGE = 100


def list_batches(
    conn: Connection,
    *,
    dataset: str | None = None,
    dept_uscc: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    query = select(batches).order_by(batches.c.id.desc()).limit(limit).offset(offset)
    if dataset:
        query = query.where(batches.c.dataset == dataset.upper())
    if dept_uscc:
        query = query.where(batches.c.dept_uscc == dept_uscc.upper())
    return [dict(r._mapping) for r in conn.execute(query)]


def batch_header(conn: Connection, batch_id: int) -> dict[str, Any]:
    """The batch row alone (counts, department, format): what a permission check needs."""
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
    if row is None:
        raise NotFound("BATCH_NOT_FOUND", _missing_batch(batch_id))
    return dict(row._mapping)


def get_batch(
    conn: Connection, batch_id: int, *, offset: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """The batch with its rejected rows (from the ``offset``-th, at most ``limit`` of them; all
    when ``limit`` is None) and as many warnings, by row number."""
    batch = batch_header(conn, batch_id)
    query = (
        select(batch_rejects)
        .where(batch_rejects.c.batch_id == batch_id)
        .order_by(batch_rejects.c.row_no)
        .offset(offset)
        .limit(limit)
    )
    rejects = []
    reject_rows = []
    for r in conn.execute(query):
        for e in r.errors:
            rejects.append({"row": r.row_no, **e})
        reject_rows.append({"row_no": r.row_no, "raw": r.raw})
    batch["rejects"] = rejects
    batch["reject_rows"] = reject_rows
    batch["warning_list"] = [
        {"row": w.row_no, "field": w.field, "value": w.value, "code": w.code, "message": w.message}
        for w in conn.execute(
            select(batch_warnings)
            .where(batch_warnings.c.batch_id == batch_id)
            .order_by(batch_warnings.c.row_no, batch_warnings.c.id)
            .offset(offset)
            .limit(limit)
        )
    ]
    return batch


def batches_for(
    conn: Connection,
    principal: Principal,
    *,
    dataset: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The batches a principal may see: its department's, or all for operators and auditors."""
    scope = department_scope(principal)
    return list_batches(conn, dataset=dataset, dept_uscc=scope, limit=limit, offset=offset)


# What a batch's outcome is, for the operators' filter: every row stored, some rows waiting
# for a subject link, some rows rejected.
BATCH_STATES: dict[str, str] = {
    "clean": "全部入库",
    "pending": "有待关联记录",
    "rejected": "有被拒记录",
}


@dataclass(frozen=True)
class BatchFilter:
    """The operators' filters over every department's batches; days are Beijing dates,
    ``until`` included."""

    dept_uscc: str | None = None
    dataset: str | None = None
    state: str | None = None
    since: date | None = None
    until: date | None = None

    def conditions(self) -> list[Any]:
        where: list[Any] = []
        if self.dept_uscc:
            where.append(batches.c.dept_uscc == self.dept_uscc.strip().upper())
        if self.dataset:
            where.append(batches.c.dataset == self.dataset.strip().upper())
        if self.state:
            if self.state not in BATCH_STATES:
                raise XinyongError("FILTER_INVALID", f"批次状态“{self.state[:20]}”不在可选范围内")
            where.append(
                {
                    "clean": (batches.c.rejected == 0) & (batches.c.pending == 0),
                    "pending": batches.c.pending > 0,
                    "rejected": batches.c.rejected > 0,
                }[self.state]
            )
        if self.since:
            where.append(batches.c.received_at >= _utc_midnight(self.since))
        if self.until:
            where.append(batches.c.received_at < _utc_midnight(self.until, next_day=True))
        return where


def _utc_midnight(day: date, *, next_day: bool = False) -> datetime:
    start = datetime.combine(day, time(), CHINA)
    if next_day:
        start = datetime.combine(date.fromordinal(day.toordinal() + 1), time(), CHINA)
    return start.astimezone(UTC)


def search_batches(
    conn: Connection,
    principal: Principal,
    where: BatchFilter,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the batches the principal may see (its department's; every department's for
    operators and auditors) that pass ``where``, newest first, and how many pass in all."""
    scope = department_scope(principal)
    conditions = where.conditions()
    if scope is not None:
        conditions.append(batches.c.dept_uscc == scope)
    total = conn.scalar(select(func.count()).select_from(batches).where(*conditions)) or 0
    rows = conn.execute(
        select(batches).where(*conditions).order_by(batches.c.id.desc()).limit(limit).offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)


def _readable_header(
    conn: Connection, principal: Principal, batch_id: int, *, part: str
) -> dict[str, Any]:
    """The batch row, once the principal may read it: its department, an operator or an
    auditor; another department's batch is answered exactly like a missing one, and roles that
    read no department data are refused before any lookup. A receipt and its rejects hold
    personal data: each read is a ``batch.read`` event naming the ``part`` read."""
    department_scope(principal)
    batch = batch_header(conn, batch_id)
    require_may_act_on(
        principal,
        batch["dept_uscc"],
        what="batch",
        reading=True,
        hide=True,
        message=_missing_batch(batch_id),
    )
    audit.append_for(conn, principal, "batch.read", batch_id=batch_id, detail={"part": part})
    return batch


def batch_for(
    conn: Connection,
    principal: Principal,
    batch_id: int,
    *,
    offset: int = 0,
    limit: int | None = MAX_REJECTS_PAGE,
) -> dict[str, Any]:
    """A batch the principal may see, with one page of its rejects and warnings. Who may see
    it is decided on the batch row alone, before any reject is read (issue 11: a refused
    caller must cost nothing)."""
    _readable_header(conn, principal, batch_id, part="receipt")
    return get_batch(conn, batch_id, offset=offset, limit=limit)


def batch_owned(conn: Connection, principal: Principal, batch_id: int) -> dict[str, Any]:
    """The batch row, once the principal may see it (for the rejects download)."""
    return _readable_header(conn, principal, batch_id, part="rejects")


def export_rejects(conn: Connection, catalog: Catalog, batch_id: int, path: Path) -> int:
    """Write a past batch's rejected rows again, as ``xinyong ingest --rejects`` would have:
    the delivery's own format and encoding plus 错误原因. Returns the number of rows."""
    batch = batch_header(conn, batch_id)
    dataset = catalog.dataset(batch["dataset"])
    writer = RejectsWriter(path, batch["file_format"], batch["headers"] or [], batch["encoding"])
    try:
        for r in conn.execute(
            select(batch_rejects.c.raw, batch_rejects.c.errors)
            .where(batch_rejects.c.batch_id == batch_id)
            .order_by(batch_rejects.c.row_no)
        ):
            problems = [Problem(e["field"], e["value"], e["code"], e["message"]) for e in r.errors]
            writer.write(r.raw, reason_text(dataset, problems))
    except BaseException:
        writer.discard()
        raise
    writer.close()
    return writer.count


def _missing_batch(batch_id: int) -> str:
    return f"批次 {batch_id} 不存在"
