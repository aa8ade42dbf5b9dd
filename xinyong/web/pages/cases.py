"""Case pages (办件): a subject files an objection about one of its records and follows its
cases on ``/me``; each department works its queue on ``/dept/cases`` (overdue and nearly-due
first), operators see every queue and reassign. Evidence is only ever downloaded; the decision
(异议处理决定书) is a document the subject downloads.

A refusal about a case (a forged number, another department's case, a closed case) is
answered with its code and recorded as ``case.refused`` (``_refusal``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from xinyong import clock
from xinyong.accounts.roles import Role
from xinyong.cases import complaints, material, objections, repair, service
from xinyong.cases import files as case_files
from xinyong.cases.kinds import KINDS, PAUSE_CAUSES
from xinyong.cases.states import CHANNEL_LABELS, EVENT_LABELS, LABELS, ROUTE_LABELS
from xinyong.departments import service as departments
from xinyong.disclosure.state_rules import state_rules
from xinyong.errors import XinyongError
from xinyong.notifications import inbox
from xinyong.records.service import get_record
from xinyong.subjects.models import subjects
from xinyong.web.api.checks import measures_of
from xinyong.web.deps import Ctx, RowId, check_csrf, page, require_login
from xinyong.web.render import TEMPLATES, render
from xinyong.workdays.calendar import WorkCalendar, calendar_dir, work_calendar

router = APIRouter()

HANDLING = (Role.CLERK, Role.OPERATOR)
URGENCY = {"overdue": "已超期", "due": "临期", "paused": "中止计时", "ok": "", "closed": ""}


def _calendar(ctx: Ctx) -> WorkCalendar:
    return work_calendar(calendar_dir(ctx.settings.catalog_dir))


@contextmanager
def _refusal(request: Request, case_no: str) -> Iterator[None]:
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


async def _form(request: Request) -> tuple[Any, str | None]:
    form = await request.form()
    token = form.get("csrf_token")
    return form, token if isinstance(token, str) else None


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _view(ctx: Ctx, found: service.Case, *, staff: bool) -> dict[str, Any]:
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
        "urgency": URGENCY[found.urgency(today, _calendar(ctx))],
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


async def _uploads(form: Any) -> list[case_files.Upload]:
    """The files of the form's ``evidence`` field, each read to one byte past the limit (so
    that the service can refuse an oversized file by name without reading it all)."""
    uploads = []
    for item in form.getlist("evidence"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(case_files.MAX_FILE_BYTES + 1)
            uploads.append(case_files.Upload(item.filename[:200], data))
    return uploads


# -- the subject -------------------------------------------------------------------------------


def _subject(ctx: Ctx) -> int:
    principal = require_login(ctx, Role.SUBJECT)
    if principal.subject_id is None:
        raise XinyongError("SUBJECT_NOT_LINKED", "该账号未关联信用主体，请联系信用办")
    return principal.subject_id


@router.get("/me/objections/new")
def objection_form(request: Request, record: int = Query(ge=1, le=2**63 - 1)) -> Response:
    with page(request) as ctx:
        subject_id = _subject(ctx)
        rec = get_record(ctx.conn, record)
        if rec["subject_id"] != subject_id:
            raise XinyongError("OBJECTION_NOT_OWN_RECORD", "只能对本主体的信用记录提出异议")
        dataset = ctx.catalog.datasets.get(rec["dataset"])
        return render(
            request,
            "objection_new.html",
            {
                "record": rec,
                "dataset_name": dataset.name if dataset else rec["dataset"],
                "routes": objections.ROUTES,
                "max_files": case_files.MAX_FILES,
                "max_mb": case_files.MAX_FILE_BYTES // (1024 * 1024),
            },
        )


@router.post("/me/objections")
async def file_objection(request: Request) -> Response:
    form, token = await _form(request)
    uploads = await _uploads(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        _subject(ctx)
        try:
            record_id = int(_text(form, "record_id"))
        except ValueError:
            raise XinyongError("RECORD_NOT_FOUND", "没有指定异议所指的记录") from None
        with _refusal(request, ""):
            found, code = objections.file_objection(
                ctx.conn,
                ctx.principal,
                _calendar(ctx),
                record_id,
                reason=_text(form, "reason"),
                route=_text(form, "route") or objections.DEPARTMENT,
                uploads=uploads,
                data_dir=ctx.settings.data_dir,
            )
        view = _view(ctx, found, staff=False)
        # the follow code is shown once, on this answer, and never stored in the clear
        return render(request, "case.html", {**view, "follow_code": code}, status_code=201)


@router.get("/me/cases/{case_no}")
def my_case(request: Request, case_no: str) -> Response:
    with page(request) as ctx:
        _subject(ctx)
        with _refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
        return render(request, "case.html", _view(ctx, found, staff=False))


@router.post("/me/cases/{case_no}/material")
async def supply_material(request: Request, case_no: str) -> Response:
    """The subject's supplementary material after a request (补正材料)."""
    form, token = await _form(request)
    uploads = await _uploads(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        _subject(ctx)
        with _refusal(request, case_no):
            material.supply_material(
                ctx.conn,
                ctx.principal,
                _calendar(ctx),
                case_no,
                uploads=uploads,
                note=_text(form, "note"),
                data_dir=ctx.settings.data_dir,
            )
    return RedirectResponse(f"/me/cases/{quote(case_no)}", status_code=303)


@router.post("/me/cases/{case_no}/withdraw")
async def withdraw(request: Request, case_no: str) -> Response:
    form, token = await _form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        _subject(ctx)
        with _refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
            if found.kind == "repair":
                repair.withdraw(
                    ctx.conn, ctx.principal, case_no, _text(form, "reason") or "申请人撤回修复申请"
                )
            else:
                objections.withdraw(
                    ctx.conn, ctx.principal, case_no, _text(form, "reason") or "申请人撤回异议"
                )
    return RedirectResponse(f"/me/cases/{quote(case_no)}", status_code=303)


@router.get("/cases/{case_no}/decision")
def decision(request: Request, case_no: str) -> Response:
    """The decision document, as a download (subject, handling department, operators)."""
    with page(request) as ctx:
        require_login(ctx, Role.SUBJECT, Role.CLERK, Role.OPERATOR, Role.AUDITOR)
        with _refusal(request, case_no):
            doc = objections.decision(ctx.conn, ctx.principal, case_no)
        found = doc["case"]
        subject = None
        if found.subject_id is not None:
            subject = ctx.conn.execute(
                select(subjects.c.name, subjects.c.uscc).where(subjects.c.id == found.subject_id)
            ).first()
        dept = departments.find(ctx.conn, found.dept_uscc) if found.dept_uscc else None
        dataset = ctx.catalog.datasets.get(doc["record"].get("dataset", ""))
        html = TEMPLATES.get_template("decision.html").render(
            {
                **doc,
                "subject": subject,
                "dept_name": dept.name if dept else "濮阳市社会信用体系建设领导小组办公室",
                "dataset_name": dataset.name if dataset else "",
                "kind": KINDS[found.kind],
            }
        )
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{found.case_no}-decision.html"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/cases/{case_no}/files/{file_id}")
def case_file(request: Request, case_no: str, file_id: RowId) -> Response:
    """Evidence, only as a download and never inline."""
    with page(request) as ctx:
        require_login(ctx, Role.SUBJECT, Role.CLERK, Role.OPERATOR, Role.AUDITOR)
        with _refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
            content, ctype, name = case_files.read(
                ctx.conn, ctx.settings.data_dir, found.id, file_id
            )
    return Response(
        content,
        media_type=ctype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


# -- staff -------------------------------------------------------------------------------------


@router.get("/dept/cases")
def queue(request: Request, dept: str = "", closed: int = 0) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *HANDLING, Role.AUDITOR)
        cal = _calendar(ctx)
        today = clock.today(ctx.conn)
        platform = dept == "platform"
        found = service.list_cases(
            ctx.conn,
            principal,
            dept_uscc=None if platform or not dept else dept[:18],
            platform=platform,
            open_only=not closed,
        )
        mailbox_dept = principal.dept_uscc
        messages = inbox.messages(ctx.conn, subject_id=None, dept_uscc=mailbox_dept, limit=10)
        return render(
            request,
            "cases.html",
            {
                "cases": [(c, c.urgency(today, cal)) for c in found],
                "urgency": URGENCY,
                "departments": departments.all_departments(ctx.conn),
                "dept": dept,
                "closed": bool(closed),
                "messages": messages,
                "unread": inbox.unread(ctx.conn, subject_id=None, dept_uscc=mailbox_dept),
            },
        )


@router.get("/dept/cases/{case_no}")
def staff_case(request: Request, case_no: str) -> Response:
    with page(request) as ctx:
        require_login(ctx, *HANDLING, Role.AUDITOR)
        with _refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
        view = _view(ctx, found, staff=True)
        if found.kind == "complaint":
            # the reporter, for the staff of the case only (never the subject's pages)
            view["reporter"] = complaints.reporter_of(ctx.conn, ctx.principal, found)
        view["may_handle"] = service.may_handle(ctx.principal, found) and found.is_open
        view["departments"] = sorted(
            departments.all_departments(ctx.conn, enabled_only=True).values(), key=lambda d: d.name
        )
        return render(request, "case.html", view)


@router.post("/dept/cases/{case_no}/{action}")
async def act(request: Request, case_no: str, action: str) -> Response:
    form, token = await _form(request)
    reason = _text(form, "reason")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, *HANDLING)
        cal = _calendar(ctx)
        with _refusal(request, case_no):
            if action == "decide" and service.get_case(ctx.conn, case_no).kind == "repair":
                repair.decide(
                    ctx.conn,
                    principal,
                    ctx.catalog,
                    measures_of(ctx),
                    case_no,
                    outcome=_text(form, "outcome"),
                    reason=reason,
                )
            elif action == "decide" and service.get_case(ctx.conn, case_no).kind == "complaint":
                complaints.decide(
                    ctx.conn, principal, case_no, outcome=_text(form, "outcome"), reason=reason
                )
            elif action == "decide":
                objections.decide(
                    ctx.conn, principal, case_no, outcome=_text(form, "outcome"), reason=reason
                )
            elif action == "pause":
                service.pause(
                    ctx.conn, principal, cal, case_no, cause=_text(form, "cause"), reason=reason
                )
            elif action == "resume":
                service.resume(ctx.conn, principal, cal, case_no, reason)
            elif action == "assign":
                service.assign(ctx.conn, principal, case_no, _text(form, "assignee"), reason)
            elif action == "note":
                service.add_note(
                    ctx.conn, principal, case_no, reason, internal=_text(form, "to") != "subject"
                )
            elif action == "material":
                service.request_material(ctx.conn, principal, cal, case_no, reason)
            elif action == "transfer":
                target = _text(form, "dept")
                service.transfer(
                    ctx.conn,
                    principal,
                    cal,
                    case_no,
                    None if target == "platform" else target[:18],
                    reason,
                    dept_deadline_days=objections.DEPT_DAYS if target != "platform" else None,
                )
            else:
                raise XinyongError("CASE_ACTION_UNKNOWN", f"没有“{action[:20]}”这种办理操作")
    return RedirectResponse(f"/dept/cases/{quote(case_no)}", status_code=303)


@router.post("/dept/inbox/read")
async def read_inbox(request: Request) -> Response:
    _, token = await _form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, *HANDLING)
        inbox.mark_read(
            ctx.conn, subject_id=None, dept_uscc=principal.dept_uscc, reader=principal.name
        )
    return RedirectResponse("/dept/cases", status_code=303)


@router.post("/me/inbox/read")
async def read_my_inbox(request: Request) -> Response:
    _, token = await _form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        subject_id = _subject(ctx)
        inbox.mark_read(ctx.conn, subject_id=subject_id, dept_uscc=None, reader=ctx.principal.name)
    return RedirectResponse("/me#inbox", status_code=303)
