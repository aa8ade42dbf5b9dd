"""Pages of oversight: the audit log for auditors (search, CSV export) and the operator's
desk (query-volume alerts). Both are refused to everyone else by the services they call."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from xinyong import clock
from xinyong.accounts.alerts import query_alerts
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Role
from xinyong.audit import service as audit
from xinyong.cells import safe_row
from xinyong.checks.feedback import feedback_stats, overdue_checks
from xinyong.clock import CHINA, beijing, today
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.web.deps import Ctx, page, require_login
from xinyong.web.render import render
from xinyong.workdays.alerts import next_year_alert
from xinyong.workdays.calendar import calendar_dir, work_calendar

router = APIRouter()

_EXPORT_LIMIT = 100_000


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    filters: dict[str, Any] = {}
    for name in ("actor", "action"):
        value = (q.get(name) or "").strip()[:64]
        if value:
            filters[name] = value
    subject = (q.get("subject_id") or "").strip()
    if subject:
        if not subject.isdigit() or len(subject) > 18:
            raise XinyongError("FILTER_INVALID", "主体编号应为数字")
        filters["subject_id"] = int(subject)
    for name in ("since", "until"):
        value = (q.get(name) or "").strip()
        if value:
            try:
                filters[name] = datetime.fromisoformat(value[:10]).replace(tzinfo=CHINA)
            except ValueError:
                raise XinyongError("FILTER_INVALID", "日期格式应为 YYYY-MM-DD") from None
    return filters


def _search(ctx: Ctx, filters: dict[str, Any], limit: int) -> list[audit.AuditEvent]:
    require_login(ctx)
    return audit.search_as(ctx.principal, ctx.conn, limit=limit, **filters)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    filters = _filters(request)
    with page(request) as ctx:
        events = _search(ctx, filters, 200)
        return render(
            request,
            "audit.html",
            {"events": events, "filters": request.query_params, "beijing": beijing},
        )


@router.get("/audit/export.csv")
def audit_export(request: Request) -> Response:
    filters = _filters(request)
    with page(request, write=True) as ctx:
        events = _search(ctx, filters, _EXPORT_LIMIT)
        # An export of the log is itself an event (issue 3: every export is audited).
        audit.append_for(
            ctx.conn,
            ctx.principal,
            action="audit.export",
            detail={"rows": len(events), "filters": {k: str(v) for k, v in filters.items()}},
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "序号",
            "时间（北京时间）",
            "操作人",
            "角色",
            "部门",
            "操作",
            "结果",
            "主体",
            "记录",
            "批次",
            "用途",
            "来源",
            "详情",
            "哈希",
        ]
    )
    for e in events:
        # typed usernames, purposes and details come from outside: inert text, never a formula
        writer.writerow(
            safe_row(
                [
                    e.seq,
                    beijing(e.at),
                    e.actor,
                    e.role,
                    e.dept_uscc or "",
                    e.action,
                    e.outcome,
                    e.subject_id or "",
                    e.record_id or "",
                    e.batch_id or "",
                    e.purpose or "",
                    e.source or "",
                    json.dumps(e.detail, ensure_ascii=False) if e.detail else "",
                    e.hash,
                ]
            )
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )


@router.get("/admin")
def admin_page(request: Request) -> Response:
    with page(request) as ctx:
        require_login(ctx)
        require_role(ctx.principal, Role.OPERATOR)
        alerts = query_alerts(ctx.conn, ctx.settings)
        calendar = work_calendar(calendar_dir(ctx.catalog.root))
        return render(
            request,
            "admin.html",
            {
                "alerts": alerts,
                "calendar_alert": next_year_alert(calendar, today(ctx.conn)),
                "stats": feedback_stats(ctx.conn),
                "overdue": overdue_checks(ctx.conn, None, as_of=clock.today(ctx.conn)),
                "dept_names": {u: d.name for u, d in departments.all_departments(ctx.conn).items()},
            },
        )
