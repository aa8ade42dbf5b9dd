"""The department assessment: the operators' page (the month's ranking as computed now, with
reasons and the data-monitoring flags, and the button that publishes it), the operators'
dashboard (运行监测, every table exportable to Excel), and the public 通报 pages of the portal
(what was published, as it was published)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong import clock
from xinyong.accounts.roles import Role
from xinyong.assessment import dashboard, monitoring
from xinyong.assessment.figures import Period
from xinyong.assessment.service import assess, publish, published, published_report
from xinyong.errors import NotFound
from xinyong.web.casework import form_text, read_form
from xinyong.web.deps import Ctx, check_csrf, page, require_login
from xinyong.web.render import render
from xinyong.workdays.calendar import calendar_dir, work_calendar

router = APIRouter()


def _last_month(ctx: Ctx) -> str:
    today = clock.today(ctx.conn)
    return f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"


@router.get("/admin/assessment")
def assessment_desk(request: Request, period: str = "") -> Response:
    with page(request) as ctx:
        require_login(ctx, Role.OPERATOR)
        month = Period.month(period or _last_month(ctx))
        calendar = work_calendar(calendar_dir(ctx.catalog.root))
        result = assess(ctx.conn, ctx.catalog, calendar, month).as_dict()
        flags = monitoring.flags(ctx.conn, ctx.catalog, clock.today(ctx.conn))
        return render(
            request,
            "assessment.html",
            {
                "report": result,
                "period": month.label,
                "admin": True,
                "flags": [f.as_dict() for f in flags],
                "published": published(ctx.conn),
            },
        )


@router.post("/admin/assessment/publish")
async def assessment_publish(request: Request) -> Response:
    form, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, Role.OPERATOR)
        month = Period.month(form_text(form, "period"))
        calendar = work_calendar(calendar_dir(ctx.catalog.root))
        publish(ctx.conn, principal, ctx.catalog, calendar, month, note=form_text(form, "note"))
    return RedirectResponse(f"/assessment/{month.label}", status_code=303)


@router.get("/assessment")
def assessment_list(request: Request) -> Response:
    with page(request) as ctx:
        return render(request, "assessments.html", {"published": published(ctx.conn)})


@router.get("/assessment/{period}")
def assessment_report(request: Request, period: str) -> Response:
    with page(request) as ctx:
        report: dict[str, Any] = published_report(ctx.conn, period)
        return render(
            request,
            "assessment.html",
            {"report": report, "period": report["period"], "admin": False, "flags": []},
        )


def _dashboard(ctx: Ctx) -> tuple[list[dashboard.Table], dict[str, Any]]:
    today = clock.today(ctx.conn)
    flags = [f.as_dict() for f in monitoring.flags(ctx.conn, ctx.catalog, today)]
    return dashboard.tables(ctx.conn, ctx.catalog, today, flags), dashboard.deliveries_by_month(
        ctx.conn, today
    )


@router.get("/admin/dashboard")
def dashboard_page(request: Request) -> Response:
    with page(request) as ctx:
        require_login(ctx, Role.OPERATOR)
        tables, monthly = _dashboard(ctx)
        return render(
            request,
            "dashboard.html",
            {
                "tables": tables,
                "chart": {"months": monthly["months"], "series": monthly["series"][:8]},
            },
        )


@router.get("/admin/dashboard/{key}.xlsx")
def dashboard_export(request: Request, key: str) -> Response:
    with page(request) as ctx:
        require_login(ctx, Role.OPERATOR)
        tables, _ = _dashboard(ctx)
        table = next((t for t in tables if t.key == key), None)
        if table is None:
            raise NotFound("DASHBOARD_TABLE_UNKNOWN", "没有这张统计表")
        return Response(
            dashboard.to_xlsx(table),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="dashboard-{key}.xlsx"'},
        )
