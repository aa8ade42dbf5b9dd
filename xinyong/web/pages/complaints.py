"""Public case pages: a complaint (失信举报) filed without an account, following a case by its
number and follow code (办件查询), and the statistics of every department's cases (办件统计).

All three are open to the public. Filing and following are forms with CSRF tokens and are
rate-limited per client address (``Settings.rate_limit_complaint_per_minute`` and
``rate_limit_follow_per_minute``): every attempt to follow counts, so codes cannot be tried in
bulk, and a wrong code answers exactly like an unknown number.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from xinyong import clock
from xinyong.cases import complaints, service, stats
from xinyong.cases import files as case_files
from xinyong.cases.kinds import KINDS
from xinyong.cases.states import EVENT_LABELS, LABELS
from xinyong.departments import service as departments
from xinyong.errors import NotFound, XinyongError
from xinyong.web.casework import case_calendar, form_text, read_form
from xinyong.web.clients import client_address
from xinyong.web.deps import Ctx, check_csrf, page
from xinyong.web.render import render

router = APIRouter()


def _limit(request: Request, bucket: str) -> None:
    settings = request.app.state.settings
    per_minute: int = getattr(settings, f"rate_limit_{bucket}_per_minute")
    request.app.state.limiter.hit(bucket, client_address(request), per_minute)


def _form_context(ctx: Ctx) -> dict[str, Any]:
    return {
        "industries": complaints.routing(ctx.catalog.root).industries,
        "departments": sorted(
            departments.all_departments(ctx.conn, enabled_only=True).values(),
            key=lambda d: d.name,
        ),
        "max_files": case_files.MAX_FILES,
        "max_mb": case_files.MAX_FILE_BYTES // (1024 * 1024),
        "deadline_days": complaints.routing(ctx.catalog.root).deadline_working_days,
    }


@router.get("/complaints/new")
def complaint_form(request: Request) -> Response:
    with page(request) as ctx:
        return render(request, "complaint_new.html", _form_context(ctx))


@router.post("/complaints")
async def file_complaint(request: Request) -> Response:
    form, token = await read_form(request)
    uploads = []
    for item in form.getlist("evidence"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(case_files.MAX_FILE_BYTES + 1)
            uploads.append(case_files.Upload(item.filename[:200], data))
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        _limit(request, "complaint")
        found, code = complaints.file_complaint(
            ctx.conn,
            ctx.principal,
            ctx.catalog,
            case_calendar(ctx),
            subject_name=form_text(form, "subject_name"),
            subject_code=form_text(form, "subject_code"),
            reason=form_text(form, "reason"),
            industry=form_text(form, "industry") or None,
            dept=form_text(form, "dept") or None,
            reporter_name=form_text(form, "reporter_name"),
            reporter_contact=form_text(form, "reporter_contact"),
            uploads=uploads,
            data_dir=ctx.settings.data_dir,
        )
        view = _public_view(ctx, found)
        # the follow code is shown once, on this answer, and never stored in the clear
        return render(request, "follow.html", {**view, "follow_code": code}, status_code=201)


def _public_view(ctx: Ctx, found: service.Case) -> dict[str, Any]:
    """What a case shows to whoever holds its number and code: its state, deadline, handling
    unit and outcome, and its history as steps and dates. No names of people, no record, no
    notes: the code holder is the filer, who should learn how the case goes, not who did what."""
    dept = departments.find(ctx.conn, found.dept_uscc) if found.dept_uscc else None
    events = [
        {"at": e["at"], "label": EVENT_LABELS.get(e["kind"], e["kind"]), "state": e["to_state"]}
        for e in service.history(ctx.conn, found.id, internal=False)
    ]
    return {
        "case": found,
        "kind": KINDS[found.kind],
        "dept_name": dept.name if dept else "信用办（平台）",
        "events": events,
        "state_labels": LABELS,
        "today": clock.today(ctx.conn),
    }


@router.get("/cases/follow")
def follow_form(request: Request) -> Response:
    with page(request):
        return render(request, "follow.html", {})


@router.post("/cases/follow")
async def follow(request: Request) -> Response:
    form, token = await read_form(request)
    case_no = form_text(form, "case_no")[:40]
    with page(request) as ctx:
        check_csrf(ctx, token)
        _limit(request, "follow")
        try:
            found = service.follow(ctx.conn, case_no, form_text(form, "code")[:40])
        except NotFound as exc:
            # the same page and status for an unknown number, a malformed one and a wrong code
            return render(
                request,
                "follow.html",
                {"error": exc.message, "error_code": exc.code, "case_no": case_no},
                status_code=404,
            )
        return render(request, "follow.html", _public_view(ctx, found))


def _since(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise XinyongError(
            "DATE_INVALID", f"起始日期“{value[:20]}”不是有效日期（YYYY-MM-DD）"
        ) from None


@router.get("/cases/stats")
def case_stats(request: Request, dept: str = "", kind: str = "", since: str = "") -> Response:
    with page(request) as ctx:
        if kind and kind not in KINDS:
            raise XinyongError("CASE_KIND_UNKNOWN", f"没有“{kind[:20]}”这种办件类型")
        known = departments.all_departments(ctx.conn)
        if dept and dept != stats.PLATFORM and dept not in known:
            raise XinyongError("DEPT_UNKNOWN", "没有这个部门")
        figures = stats.statistics(
            ctx.conn, case_calendar(ctx), dept=dept or None, kind=kind or None, since=_since(since)
        )
        names = {code: d.name for code, d in known.items()} | {stats.PLATFORM: "信用办（平台）"}
        return render(
            request,
            "stats.html",
            {
                "figures": figures,
                "names": names,
                "kinds": KINDS,
                "dept": dept,
                "kind": kind,
                "since": since,
                "departments": sorted(known.values(), key=lambda d: d.name),
            },
        )
