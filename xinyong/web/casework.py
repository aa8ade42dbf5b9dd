"""What the case pages, the window, repair and complaint pages and the cases API share: the
working-day calendar, a refusal audited after the rollback, form fields, evidence uploads, the
view of one case, and the subject a self-service account acts for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from xinyong import clock
from xinyong.accounts.roles import Role
from xinyong.cases import files as case_files
from xinyong.cases import material, service
from xinyong.cases.kinds import KINDS, PAUSE_CAUSES
from xinyong.cases.states import CHANNEL_LABELS, EVENT_LABELS, LABELS, ROUTE_LABELS
from xinyong.departments import service as departments
from xinyong.disclosure.state_rules import state_rules
from xinyong.errors import XinyongError
from xinyong.records.service import get_record
from xinyong.web.deps import Ctx, require_login
from xinyong.workdays.calendar import WorkCalendar, calendar_dir, work_calendar

URGENCY = {"overdue": "已超期", "due": "临期", "paused": "中止计时", "ok": "", "closed": ""}


def case_calendar(ctx: Ctx) -> WorkCalendar:
    return work_calendar(calendar_dir(ctx.settings.catalog_dir))


@contextmanager
def audited_refusal(request: Request, case_no: str) -> Iterator[None]:
    """Let a refused case action be audited by the error handler after the rollback."""
    try:
        yield
    except XinyongError as exc:
        principal = getattr(request.state, "principal", None)
        if principal is not None:
            message, code = exc.message, exc.code

            def fields() -> dict[str, Any]:
                return {
                    "actor": principal.name,
                    "role": principal.role.value,
                    "action": "case.refused",
                    "outcome": "denied",
                    "dept_uscc": principal.dept_uscc,
                    "purpose": message,
                    "detail": {"case_no": case_no[:40], "code": code},
                    "source": principal.source or None,
                }

            exc.audit_fields = fields  # type: ignore[attr-defined]
        raise


async def read_form(request: Request) -> tuple[Any, str | None]:
    form = await request.form()
    token = form.get("csrf_token")
    return form, token if isinstance(token, str) else None


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def case_view(ctx: Ctx, found: service.Case, *, staff: bool) -> dict[str, Any]:
    today = clock.today(ctx.conn)
    record = get_record(ctx.conn, found.record_id) if found.record_id else None
    dataset = ctx.catalog.datasets.get(record["dataset"]) if record else None
    dept = departments.find(ctx.conn, found.dept_uscc) if found.dept_uscc else None
    return {
        "case": found,
        "record": record,
        "dataset_name": dataset.name if dataset else "",
        "dept_name": dept.name if dept else "信用办（平台）",
        "events": service.history(ctx.conn, found.id, internal=staff),
        "files": case_files.files_of(ctx.conn, found.id),
        "urgency": URGENCY[found.urgency(today, case_calendar(ctx))],
        "state_labels": LABELS,
        "event_labels": EVENT_LABELS,
        "pause_label": PAUSE_CAUSES.get(found.pause_cause or "", ""),
        "route_labels": ROUTE_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "kind": KINDS[found.kind],
        "pause_causes": {c: PAUSE_CAUSES[c] for c in KINDS[found.kind].pausing},
        "staff": staff,
        "material_requested": _material_requested(ctx, found),
        "max_files": case_files.MAX_FILES,
        "max_mb": case_files.MAX_FILE_BYTES // (1024 * 1024),
        "record_state_label": state_rules(ctx.catalog.root).label(record["state"])
        if record
        else "",
    }


def _material_requested(ctx: Ctx, found: service.Case) -> str | None:
    """What the department asked for, while the request is outstanding on an open case."""
    if not found.is_open or not material.outstanding_request(ctx.conn, found.id):
        return None
    events = service.history(ctx.conn, found.id, internal=False)
    wanted = [e["reason"] for e in events if e["kind"] == "material_requested"]
    return wanted[-1] if wanted else None


async def evidence_uploads(form: Any) -> list[case_files.Upload]:
    """The files of the form's ``evidence`` field, each read to one byte past the limit (so
    that the service can refuse an oversized file by name without reading it all)."""
    uploads = []
    for item in form.getlist("evidence"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(case_files.MAX_FILE_BYTES + 1)
            uploads.append(case_files.Upload(item.filename[:200], data))
    return uploads


def own_subject(ctx: Ctx) -> int:
    principal = require_login(ctx, Role.SUBJECT)
    if principal.subject_id is None:
        raise XinyongError("SUBJECT_NOT_LINKED", "该账号未关联信用主体，请联系信用办")
    return principal.subject_id
