"""Pages of oversight: the audit log for auditors (search, CSV export) and the operator's
desk (query-volume alerts). Both are refused to everyone else by the services they call."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from xinyong import clock
from xinyong.accounts.alerts import query_alerts
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Role
from xinyong.audit import labels
from xinyong.audit import service as audit
from xinyong.cells import safe_row
from xinyong.checks.feedback import feedback_stats, overdue_checks
from xinyong.clock import CHINA, beijing, today
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.subjects.service import find_subject
from xinyong.web.deps import Ctx, check_csrf, page, require_login
from xinyong.web.render import render
from xinyong.workdays.alerts import next_year_alert
from xinyong.workdays.calendar import calendar_dir, work_calendar

router = APIRouter()

_EXPORT_LIMIT = 100_000
ACTION_CODE = re.compile(r"[a-z_]{1,20}\.[a-z_]{1,26}")


def audit_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


PAGE_SIZE = 50


def _filters(request: Request) -> dict[str, Any]:
    """The auditors' filters as the search takes them. Action, role and outcome are chosen
    from lists (codes); a subject is named by any of its codes and found in the service."""
    q = request.query_params
    filters: dict[str, Any] = {}
    actor = (q.get("actor") or "").strip()[:64]
    if actor:
        filters["actor"] = actor
    for name, known in (
        ("action", labels.ACTION_LABELS),
        ("role", {r.value: r.label for r in Role}),
        ("outcome", labels.OUTCOME_LABELS),
    ):
        value = (q.get(name) or "").strip()[:48]
        if value:
            if value not in known and not (name == "action" and ACTION_CODE.fullmatch(value)):
                raise XinyongError("FILTER_INVALID", f"筛选条件“{value[:20]}”不在可选范围内")
            filters[name] = value
    for name in ("since", "until"):
        value = (q.get(name) or "").strip()
        if value:
            try:
                filters[name] = datetime.fromisoformat(value[:10]).replace(tzinfo=CHINA)
            except ValueError:
                raise XinyongError("FILTER_INVALID", "日期格式应为 YYYY-MM-DD") from None
    return filters


def _cursor(text: str) -> tuple[datetime, int, int] | None:
    """The page cursor ``before``: the time (microseconds since the epoch), seq and chain of
    the last event shown."""
    if not text:
        return None
    try:
        micros, seq, chain = (int(part) for part in text.split("~"))
        return datetime.fromtimestamp(micros / 1_000_000, UTC), seq, chain
    except ValueError:
        raise XinyongError("FILTER_INVALID", "翻页参数无效，请从第一页重新查询") from None


def _subject_filter(ctx: Ctx, request: Request, filters: dict[str, Any]) -> dict[str, Any] | None:
    """The subject an auditor names by any code (USCC, 组织机构代码, 注册号, ID number): found
    through the registry; the lookup is itself audited, for it may be a person's ID number."""
    code = (request.query_params.get("subject") or "").strip()[:32]
    if not code:
        return None
    found = find_subject(ctx.conn, code)
    filters["subject_id"] = found["id"]
    audit.append_for(
        ctx.conn, ctx.principal, "audit.search", subject_id=found["id"], detail={"by": "code"}
    )
    return {"id": found["id"], "name": found["name"], "code": code}


def _search(ctx: Ctx, filters: dict[str, Any], limit: int) -> list[audit.AuditEvent]:
    require_login(ctx)
    return audit.search_as(ctx.principal, ctx.conn, limit=limit, **filters)


def _row(e: audit.AuditEvent) -> dict[str, Any]:
    return {
        "event": e,
        "at": beijing(e.at),
        "role": labels.role_label(e.role),
        "action": labels.action_label(e.action),
        "outcome": labels.outcome_label(e.outcome),
        "href": f"/audit/event/{e.chain}/{e.seq}",
    }


@router.get("/audit")
def audit_page(request: Request) -> Response:
    filters = _filters(request)
    before = _cursor(request.query_params.get("before") or "")
    with page(request, write=True) as ctx:
        require_login(ctx)
        require_role(ctx.principal, Role.AUDITOR, Role.OPERATOR)
        subject = _subject_filter(ctx, request, filters)
        events = _search(ctx, {**filters, "before": before}, PAGE_SIZE + 1)
        more = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE]
        last = events[-1] if events else None
        query = {k: v for k, v in request.query_params.items() if k != "before"}
        next_url = None
        if more and last is not None:
            micros = round(audit_utc(last.at).timestamp() * 1_000_000)
            cursor = f"{micros}~{last.seq}~{last.chain}"
            next_url = "/audit?" + urlencode({**query, "before": cursor})
        return render(
            request,
            "audit.html",
            {
                "rows": [_row(e) for e in events],
                "filters": request.query_params,
                "subject": subject,
                "action_groups": labels.ACTION_GROUPS,
                "roles": [(r.value, r.label) for r in Role],
                "outcomes": labels.OUTCOME_LABELS,
                "next_url": next_url,
                "first_url": "/audit?" + urlencode(query) if before else None,
                "export_url": "/audit/export.csv?" + urlencode(query),
                "heads": audit.heads(ctx.conn),
                "anchor": audit.export_anchor(ctx.conn),
            },
        )


@router.get("/audit/event/{chain}/{seq}")
def audit_event(request: Request, chain: int, seq: int) -> Response:
    with page(request) as ctx:
        require_login(ctx)
        require_role(ctx.principal, Role.AUDITOR, Role.OPERATOR)
        e = audit.get_event(ctx.conn, chain, seq)
        return render(
            request,
            "audit_event.html",
            {
                "row": _row(e),
                "detail": json.dumps(e.detail, ensure_ascii=False, indent=2) if e.detail else "",
            },
        )


@router.post("/audit/verify")
async def audit_verify(request: Request) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        require_login(ctx)
        require_role(ctx.principal, Role.AUDITOR, Role.OPERATOR)
        result = audit.verify(ctx.conn)
        missing = audit.missing_guards(ctx.conn)
        return render(
            request,
            "audit_verify.html",
            {"result": result, "missing": missing, "anchor": audit.export_anchor(ctx.conn)},
        )


@router.get("/audit/export.csv")
def audit_export(request: Request) -> Response:
    filters = _filters(request)
    with page(request, write=True) as ctx:
        _subject_filter(ctx, request, filters)
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
                    labels.role_label(e.role),
                    e.dept_uscc or "",
                    f"{labels.action_label(e.action)}（{e.action}）",
                    labels.outcome_label(e.outcome),
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
