"""A clerk records a signed paper authorisation (书面授权) with its scan, for its own
department as the requester; the list shows its department's authorisations. A recorded one
is provisional (待确认) until an operator other than its recorder confirms it here, or the
subject accepts it at /me."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from xinyong import clock
from xinyong.accounts import authorisations as auth
from xinyong.accounts.alerts import day_start
from xinyong.accounts.roles import Role
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.notifications import inbox
from xinyong.subjects.service import find_subject
from xinyong.web.deps import RowId, check_csrf, page, require_login
from xinyong.web.render import render

router = APIRouter()

RECORDING = (Role.CLERK, Role.OPERATOR)


@router.get("/dept/authorisations")
def list_page(request: Request) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *RECORDING)
        return render(
            request,
            "paper.html",
            {
                "authorisations": auth.list_authorisations(ctx.conn, principal),
                "departments": sorted(
                    departments.all_departments(ctx.conn, enabled_only=True).values(),
                    key=lambda d: d.name,
                ),
                "today": clock.today(ctx.conn).isoformat(),
                "now": clock.now(ctx.conn),
            },
        )


def _day(value: object, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise XinyongError("DATE_INVALID", f"{what}格式应为 YYYY-MM-DD") from None


@router.post("/dept/authorisations")
async def record(request: Request) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    scan = form.get("scan")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        principal = require_login(ctx, *RECORDING)
        if not isinstance(scan, UploadFile) or not scan.filename:
            raise XinyongError("SCAN_REQUIRED", "请上传签字授权书的扫描件（PDF、JPEG 或 PNG）")
        data = await scan.read(auth.MAX_SCAN_BYTES + 1)
        subject = find_subject(ctx.conn, str(form.get("subject", ""))[:30])
        dept = str(form.get("dept") or principal.dept_uscc or "")
        start = _day(form.get("valid_from"), "有效期起始日期")
        end = _day(form.get("valid_until"), "有效期截止日期")
        auth.record_paper(
            ctx.conn,
            principal,
            catalog=ctx.catalog,
            settings=ctx.settings,
            subject_id=subject["id"],
            dept_uscc=dept,
            purpose=str(form.get("purpose", "")),
            valid_from=day_start(start),
            valid_until=day_start(end + timedelta(days=1)),
            scan=data,
            scan_name=scan.filename[:200],
            notify=inbox.tell_subject,
        )
    return RedirectResponse("/dept/authorisations", status_code=303)


@router.post("/dept/authorisations/{authorisation_id}/confirm")
async def confirm(request: Request, authorisation_id: RowId) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        principal = require_login(ctx, Role.OPERATOR)
        auth.confirm(ctx.conn, principal, authorisation_id, notify=inbox.tell_subject)
    return RedirectResponse("/dept/authorisations", status_code=303)
