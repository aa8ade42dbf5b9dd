"""Supplementary material (补正材料): after a request for material the filer adds evidence on
its case page or through the API.

The files follow the evidence rules (``files``: PDF/JPEG/PNG sniffed by content, size and count
limits, stored outside the web root). The case history records the delivery (``material_received``,
with the files attached to that event) and the department is told. Where the kind's rules stopped
the clock for the material (``Kind.pausing`` holds ``material``: credit repair), the clock resumes
on receipt and the deadline moves by the working days it stood still; otherwise (objections:
Henan art. 41 pauses only for inspection, testing or appraisal) it ran on and nothing moves.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, func, select

from xinyong.accounts.roles import Principal, Role
from xinyong.cases import files as case_files
from xinyong.cases import service, states
from xinyong.cases.kinds import MATERIAL
from xinyong.cases.models import case_events
from xinyong.errors import Conflict, NotAllowed, XinyongError
from xinyong.notifications import inbox
from xinyong.workdays.calendar import WorkCalendar

NOTE_MAX_CHARS = 2000


def outstanding_request(conn: Connection, case_id: int) -> bool:
    """True when material was requested and none has been received since."""
    last: dict[str, int] = {
        kind: latest
        for kind, latest in conn.execute(
            select(case_events.c.kind, func.max(case_events.c.id))
            .where(
                case_events.c.case_id == case_id,
                case_events.c.kind.in_(("material_requested", "material_received")),
            )
            .group_by(case_events.c.kind)
        ).all()
    }
    requested = last.get("material_requested")
    return requested is not None and requested > last.get("material_received", 0)


def supply_material(
    conn: Connection,
    principal: Principal,
    calendar: WorkCalendar,
    case_no: str,
    *,
    uploads: list[case_files.Upload],
    note: str | None,
    data_dir: Path,
) -> service.Case:
    """The filer's supplementary material: refused unless the subject owns the case, the case
    is open and material was asked for; at least one file."""
    found = service.case_for(conn, principal, case_no)
    if principal.role is not Role.SUBJECT or principal.subject_id != found.subject_id:
        raise NotAllowed("CASE_NOT_FILER", "只有提出申请的信用主体本人可以补正材料")
    service.ensure_open(found)
    if not outstanding_request(conn, found.id):
        raise Conflict("CASE_NO_MATERIAL_REQUEST", f"办件 {case_no} 目前没有待补正的材料要求")
    text = (note or "").strip()
    if len(text) > NOTE_MAX_CHARS:
        raise XinyongError("CASE_NOTE_TOO_LONG", f"补正说明最多 {NOTE_MAX_CHARS} 个字")
    if not uploads:
        raise XinyongError("CASE_FILE_REQUIRED", "请上传补正材料（PDF、JPEG 或 PNG）")
    checked = case_files.check_uploads(uploads)
    event_id = service.record_event(
        conn,
        principal,
        found,
        "material_received",
        text or "补正材料",
        detail={"files": len(checked)},
    )
    ids = case_files.store(conn, data_dir, found.id, event_id, checked, principal.name)
    service.audit_case(conn, principal, "case.material_received", found, files=ids)
    inbox.case_changed(
        conn,
        found,
        f"办件 {case_no} 收到补正材料",
        f"申请人补正了 {len(ids)} 个材料文件" + (f"：{text}" if text else "。"),
    )
    if found.state == states.PAUSED and found.pause_cause == MATERIAL:
        found = service.resume_case(conn, principal, calendar, found, "收到补正材料，恢复计时")
    return found
