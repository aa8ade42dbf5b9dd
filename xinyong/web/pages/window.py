"""Window filing (窗口代录): a clerk or an operator enters an objection received at the counter
for a subject — the subject by any of its codes, the record or list entry objected to, the
reason and the scanned evidence — through the same service as ``xinyong cases file``
(``objections.file_objection``: the record is marked 异议处理中 at once, routing and deadlines
per Henan art. 41/28). The follow code is shown once, to be handed to the subject."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from xinyong.accounts.roles import Role
from xinyong.audit.queries import record_read
from xinyong.cases import files as case_files
from xinyong.cases import objections
from xinyong.disclosure.view import visible_records
from xinyong.errors import XinyongError
from xinyong.records import states
from xinyong.subjects.service import find_subject
from xinyong.web.casework import (
    audited_refusal,
    case_calendar,
    case_view,
    evidence_uploads,
    form_text,
    read_form,
)
from xinyong.web.deps import Ctx, check_csrf, page, require_login
from xinyong.web.render import render

router = APIRouter()

WINDOW_ROLES = (Role.CLERK, Role.OPERATOR)
# the purpose of a look-up at the counter: the subject in person asks to file an objection
WINDOW_PURPOSE = "窗口代录异议申请"
MAX_CODE_CHARS = 30


def _choices(ctx: Ctx, code: str) -> dict[str, Any]:
    """The subject named by ``code`` and its records open to an objection (公示中), or the
    reason none can be shown."""
    if not code:
        return {}
    try:
        subject = find_subject(ctx.conn, code[:MAX_CODE_CHARS])
    except XinyongError as exc:
        return {"lookup_error": exc.message, "lookup_code": exc.code}
    shown = visible_records(ctx.conn, ctx.catalog, ctx.principal, subject)
    # the counter sees the subject's records as its department does (政务共享 included): a
    # read with its purpose, in the subject's query history like any other (issue 11 item 5)
    record_read(
        ctx.conn,
        ctx.principal,
        subject["id"],
        what="subject.read",
        purpose=WINDOW_PURPOSE,
        detail={"datasets": sorted({r.dataset for r in shown}), "window": True},
    )
    return {
        "subject": subject,
        "records": [r for r in shown if r.state == states.PUBLISHED],
    }


def _context(ctx: Ctx, code: str) -> dict[str, Any]:
    return {
        "code": code[:MAX_CODE_CHARS],
        "routes": objections.ROUTES,
        "max_files": case_files.MAX_FILES,
        "max_mb": case_files.MAX_FILE_BYTES // (1024 * 1024),
        **_choices(ctx, code.strip()),
    }


@router.get("/dept/objections/new")
def window_form(request: Request, subject: str = "") -> Response:
    with page(request) as ctx:
        require_login(ctx, *WINDOW_ROLES)
        return render(request, "window_objection.html", _context(ctx, subject))


@router.post("/dept/objections")
async def window_file(request: Request) -> Response:
    form, token = await read_form(request)
    uploads = await evidence_uploads(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        require_login(ctx, *WINDOW_ROLES)
        try:
            record_id = int(form_text(form, "record_id"))
        except ValueError:
            raise XinyongError("RECORD_NOT_FOUND", "请选择异议所指的记录") from None
        with audited_refusal(request, ""):
            found, code = objections.file_objection(
                ctx.conn,
                ctx.principal,
                case_calendar(ctx),
                record_id,
                reason=form_text(form, "reason"),
                route=form_text(form, "route") or objections.DEPARTMENT,
                uploads=uploads,
                data_dir=ctx.settings.data_dir,
            )
        view = case_view(ctx, found, staff=True)
        return render(
            request, "case.html", {**view, "follow_code": code, "window": True}, status_code=201
        )
