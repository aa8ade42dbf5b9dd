"""A subject's own pages (我的信用): everything about itself, who looked at its non-public
information (Henan art. 40), its own credit report with that history, and the authorisations
(信用信息查询授权) it gives departments."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong import clock
from xinyong.accounts import authorisations as auth
from xinyong.accounts.roles import Role
from xinyong.audit.queries import free_self_reports_left, queries_about
from xinyong.clock import CHINA
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.notifications import inbox
from xinyong.portal import service as portal
from xinyong.reports.content import ReportKind
from xinyong.web.deps import Ctx, RowId, check_csrf, page, require_login
from xinyong.web.pages.my_cases import my_cases
from xinyong.web.render import render
from xinyong.web.report_files import issue_with_file, pdf_download

router = APIRouter()


def _subject_id(ctx: Ctx) -> int:
    principal = require_login(ctx, Role.SUBJECT)
    if principal.subject_id is None:
        raise XinyongError("SUBJECT_NOT_LINKED", "该账号未关联信用主体，请联系信用办")
    return principal.subject_id


@router.get("/me")
def me(request: Request) -> Response:
    with page(request) as ctx:
        subject_id = _subject_id(ctx)
        profile = portal.subject_profile(ctx.conn, ctx.catalog, ctx.principal, subject_id)
        records = portal.subject_records(
            ctx.conn, ctx.catalog, ctx.principal, subject_id, paging=portal.Paging(1, 100)
        )
        today = clock.today(ctx.conn)
        return render(
            request,
            "me.html",
            {
                "profile": profile,
                "records": records["items"],
                "queries": queries_about(
                    ctx.conn, subject_id, dept_names=departments.names(ctx.conn), limit=200
                ),
                "authorisations": auth.list_authorisations(
                    ctx.conn, ctx.principal, subject_id=subject_id
                ),
                "departments": sorted(
                    departments.all_departments(ctx.conn, enabled_only=True).values(),
                    key=lambda d: d.name,
                ),
                "now": clock.now(ctx.conn),
                "dept_names": departments.names(ctx.conn),
                "free_left": free_self_reports_left(ctx.conn, subject_id, today.year),
                "default_until": (today + timedelta(days=90)).isoformat(),
                **my_cases(
                    ctx.conn,
                    ctx.principal,
                    subject_id,
                    ctx.catalog,
                    [r["id"] for r in records["items"]],
                ),
            },
        )


@router.post("/me/report")
async def my_report(request: Request) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        subject_id = _subject_id(ctx)
        report = issue_with_file(ctx, subject_id, ReportKind.SELF)
    return pdf_download(report)


@router.post("/me/authorisations")
async def grant(request: Request) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        subject_id = _subject_id(ctx)
        try:
            until = datetime.fromisoformat(fields.get("valid_until", "")).replace(tzinfo=CHINA)
        except ValueError:
            raise XinyongError("DATE_INVALID", "授权截止日期格式应为 YYYY-MM-DD") from None
        auth.grant_online(
            ctx.conn,
            ctx.principal,
            catalog=ctx.catalog,
            subject_id=subject_id,
            dept_uscc=fields.get("dept", ""),
            purpose=fields.get("purpose", ""),
            valid_from=clock.now(ctx.conn),
            valid_until=until + timedelta(days=1) - timedelta(seconds=1),
        )
    return RedirectResponse("/me#authorisations", status_code=303)


@router.post("/me/authorisations/{authorisation_id}/revoke")
async def revoke(request: Request, authorisation_id: RowId) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        _subject_id(ctx)
        auth.revoke(ctx.conn, ctx.principal, authorisation_id, fields.get("reason") or "本人撤回")
    return RedirectResponse("/me#authorisations", status_code=303)


@router.post("/me/authorisations/{authorisation_id}/accept")
async def accept(request: Request, authorisation_id: RowId) -> Response:
    """The subject confirms a paper authorisation a department recorded for it."""
    form = await request.form()
    token = form.get("csrf_token")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        _subject_id(ctx)
        auth.confirm(ctx.conn, ctx.principal, authorisation_id, notify=inbox.tell_subject)
    return RedirectResponse("/me#authorisations", status_code=303)
