"""Received packages (接收数据包) and their verification within 5 working days (Henan art. 17:
the platform verifies received data within five working days and sends back what does not
conform). The deadline is counted on the working-day calendar (``xinyong.workdays``); a
package whose deadline falls in a year the calendar does not hold yet is 暂定 (provisional).
``xinyong daily`` counts the packages past their deadline and warns the operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.daily import DailyRun
from xinyong.errors import Conflict, NotFound, XinyongError
from xinyong.exchange.models import exchange_packages
from xinyong.workdays.calendar import calendar_dir, work_calendar

VERDICTS = {"verified": "核实无误", "returned": "退回重报"}


@dataclass(frozen=True)
class Received:
    id: int
    guid: str
    node: str
    dataset: str
    records: int
    batch_id: int | None
    status: str
    due_on: date | None
    due_provisional: bool
    created_at: datetime
    verified_at: datetime | None
    verify_note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "package_id": self.guid,
            "node": self.node,
            "dataset": self.dataset,
            "records": self.records,
            "batch_id": self.batch_id,
            "status": self.status,
            "status_label": {"received": "待核实", **VERDICTS}.get(self.status, self.status),
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "due_provisional": self.due_provisional,
            "received_at": self.created_at.isoformat(),
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "verify_note": self.verify_note,
        }


def record_received(
    conn: Connection,
    *,
    catalog_root: Any,
    verify_days: int,
    header: dict[str, Any],
    file_name: str,
    batch_id: int,
    actor: str,
) -> Received:
    """Register a received package, its batch and its verification deadline."""
    p = exchange_packages
    if conn.execute(select(p.c.id).where(p.c.guid == str(header["package_id"]))).first():
        raise Conflict(
            "PACKAGE_DUPLICATE", f"数据包 {header['package_id']} 已经接收过，不再重复入库"
        )
    at = clock.now(conn)
    due = work_calendar(calendar_dir(catalog_root)).add_working_days(clock.today(conn), verify_days)
    counts = header.get("counts") or {}
    conn.execute(
        insert(p).values(
            guid=str(header["package_id"]),
            direction="in",
            node=str(header["source_node"]),
            dataset=str(header["dataset"]),
            file_name=file_name,
            records=int(header.get("record_count") or 0),
            adds=int(counts.get("ADD", 0)),
            mods=int(counts.get("MOD", 0)),
            dels=int(counts.get("DEL", 0)),
            checksum=str((header.get("checksum") or {}).get("value", ""))[:64],
            status="received",
            batch_id=batch_id,
            due_on=due.day,
            due_provisional=due.provisional,
            actor=actor,
            created_at=at,
        )
    )
    return get_received(conn, str(header["package_id"]))


def _received(row: Any) -> Received:
    return Received(
        id=row.id,
        guid=row.guid,
        node=row.node,
        dataset=row.dataset,
        records=row.records,
        batch_id=row.batch_id,
        status=row.status,
        due_on=row.due_on,
        due_provisional=bool(row.due_provisional),
        created_at=clock.aware(row.created_at) or row.created_at,
        verified_at=clock.aware(row.verified_at),
        verify_note=row.verify_note,
    )


def get_received(conn: Connection, guid: str) -> Received:
    p = exchange_packages
    row = conn.execute(select(p).where(p.c.guid == guid, p.c.direction == "in")).first()
    if row is None:
        raise NotFound("PACKAGE_NOT_FOUND", f"没有编号为 {guid} 的接收数据包")
    return _received(row)


def received_packages(conn: Connection, principal: Principal) -> list[Received]:
    require_role(principal, Role.OPERATOR, Role.AUDITOR)
    p = exchange_packages
    rows = conn.execute(select(p).where(p.c.direction == "in").order_by(p.c.id.desc()))
    return [_received(r) for r in rows]


def verify(
    conn: Connection, principal: Principal, guid: str, *, verdict: str, note: str = ""
) -> Received:
    """Record the operator's verification of a received package: 核实无误, or 退回重报 with
    the reason (required)."""
    require_role(principal, Role.OPERATOR)
    if verdict not in VERDICTS:
        raise XinyongError(
            "VERDICT_INVALID", "核实结论应为 verified（核实无误）或 returned（退回重报）"
        )
    if verdict == "returned" and not note.strip():
        raise XinyongError("REASON_REQUIRED", "退回重报须说明理由")
    found = get_received(conn, guid)
    if found.status != "received":
        raise Conflict("PACKAGE_ALREADY_VERIFIED", f"数据包 {guid} 已核实")
    at = clock.now(conn)
    conn.execute(
        update(exchange_packages)
        .where(exchange_packages.c.id == found.id)
        .values(
            status=verdict,
            verified_at=at,
            verified_by=principal.name,
            verify_note=note.strip() or None,
        )
    )
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="exchange.verify",
        batch_id=found.batch_id,
        source=principal.source or None,
        detail={"package_id": guid, "verdict": verdict, "note": note.strip() or None},
    )
    return get_received(conn, guid)


def overdue_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """The daily step: how many received packages are past their verification deadline."""
    p = exchange_packages
    late = int(
        conn.execute(
            select(func.count()).where(
                p.c.direction == "in", p.c.status == "received", p.c.due_on < run.as_of
            )
        ).scalar_one()
    )
    if late:
        run.warnings.append(
            f"{late} 个接收的数据包已超过 5 个工作日核实期限（河南省社会信用条例第十七条）"
        )
    return {"overdue": late}
