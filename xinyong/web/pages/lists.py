"""A designating department's list pages (名单办理): its entries, recording a prior notice
(事前告知) with its objection window, one entry with its events and notices, a change (变更)
with reason, and an early exit (提前移出) with reason and exit notice. Operators act for any
department; auditors read."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from xinyong.accounts.roles import Role
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.lists import desk
from xinyong.lists.change import EntryChange, Person, change_entry
from xinyong.lists.notices import record_prior_notice
from xinyong.subjects.service import find_subject
from xinyong.web.api.checks import measures_of
from xinyong.web.deps import RowId, check_csrf, page, require_login
from xinyong.web.render import render

router = APIRouter()

ACTING = (Role.CLERK, Role.OPERATOR)
PAGE_SIZE = 50


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(form: FormData, name: str, label: str) -> date | None:
    value = _text(form, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise XinyongError("DATE_INVALID", f"{label}“{value}”应为 YYYY-MM-DD") from None


@router.get("/dept/lists")
def lists_home(
    request: Request,
    status: Annotated[str | None, Query(pattern="^(listed|exited)$")] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *ACTING, Role.AUDITOR)
        found = desk.entries_for(
            ctx.conn,
            ctx.catalog,
            principal,
            status=status,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
        list_datasets = [(c, d.name) for c, d in ctx.catalog.datasets.items() if d.list_kind]
        return render(
            request,
            "dept_lists.html",
            {
                "entries": found["items"],
                "total": found["total"],
                "status": status,
                "page_no": page_no,
                "pages": max(1, -(-found["total"] // PAGE_SIZE)),
                "notices": desk.prior_notices_for(ctx.conn, principal, limit=20),
                "datasets": list_datasets,
                "kinds": sorted(ctx.catalog.lists.kinds.values(), key=lambda k: k.code),
                "departments": sorted(
                    departments.all_departments(ctx.conn, enabled_only=True).values(),
                    key=lambda d: d.name,
                ),
                "can_act": principal.role in ACTING,
            },
        )


@router.post("/dept/lists/notices")
async def add_notice(request: Request) -> Response:
    form = await request.form()
    with page(request, write=True) as ctx:
        check_csrf(ctx, _text(form, "csrf_token") or None)
        principal = require_login(ctx, *ACTING)
        code = _text(form, "subject_code")
        if not code:
            raise XinyongError("SUBJECT_REQUIRED", "请填写主体的统一社会信用代码或身份证号")
        served_on = _date(form, "served_on", "送达日期")
        if served_on is None:
            raise XinyongError("DATE_REQUIRED", "请填写送达日期")
        try:
            days = int(_text(form, "objection_days") or "5")
        except ValueError:
            raise XinyongError("DAYS_INVALID", "异议期应为 1 至 60 的整数（日）") from None
        if not 1 <= days <= 60:
            raise XinyongError("DAYS_INVALID", "异议期应为 1 至 60 的整数（日）")
        record_prior_notice(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            principal,
            dataset=_text(form, "dataset"),
            subject_id=int(find_subject(ctx.conn, code)["id"]),
            basis=_text(form, "basis"),
            reasons=_text(form, "reasons"),
            served_on=served_on,
            doc_no=_text(form, "doc_no") or None,
            objection_days=days,
            dept_uscc=_text(form, "dept") or None,
            list_kind=_text(form, "list_kind") or None,
        )
    return RedirectResponse("/dept/lists#notices-h", status_code=303)


@router.get("/dept/lists/{record_id}")
def entry_page(request: Request, record_id: RowId) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *ACTING, Role.AUDITOR)
        found = desk.entry_for(ctx.conn, ctx.catalog, principal, record_id)
        return render(
            request,
            "dept_list_entry.html",
            {
                "entry": found,
                "reasons": desk.EARLY_EXIT_REASONS,
                "can_act": principal.role in ACTING and found["can_exit"],
            },
        )


@router.post("/dept/lists/{record_id}/exit")
async def exit_entry(request: Request, record_id: RowId) -> Response:
    form = await request.form()
    with page(request, write=True) as ctx:
        check_csrf(ctx, _text(form, "csrf_token") or None)
        principal = require_login(ctx, *ACTING)
        desk.exit_early(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            principal,
            record_id,
            reason=_text(form, "reason"),
            basis=_text(form, "basis"),
            on=_date(form, "on", "移出日期"),
        )
    return RedirectResponse(f"/dept/lists/{record_id}", status_code=303)


@router.post("/dept/lists/{record_id}/change")
async def change_entry_page(request: Request, record_id: RowId) -> Response:
    """变更: only the fields filled in are changed; a person is set by name (and ID number)."""
    form = await request.form()
    with page(request, write=True) as ctx:
        check_csrf(ctx, _text(form, "csrf_token") or None)
        principal = require_login(ctx, *ACTING)
        persons = tuple(
            (role, Person(_text(form, f"{role}_name"), _text(form, f"{role}_id") or None))
            for role in ("legal_rep", "controller", "responsible")
            if _text(form, f"{role}_name")
        )
        change_entry(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            principal,
            record_id,
            EntryChange(
                listed_on=_date(form, "listed_on", "列入日期"),
                valid_until=_date(form, "valid_until", "有效期至"),
                valid_until_cleared=_text(form, "valid_until_cleared") == "1",
                basis=_text(form, "basis") or None,
                facts=_text(form, "facts") or None,
                doc_no=_text(form, "doc_no") or None,
                persons=persons,
            ),
            reason=_text(form, "reason"),
        )
    return RedirectResponse(f"/dept/lists/{record_id}#events-h", status_code=303)
