"""Case pages (办件): a subject files an objection about one of its records and follows its
cases on ``/me``; each department works its queue on ``/dept/cases`` (overdue and nearly-due
first), operators see every queue and reassign. Evidence is only ever downloaded; the decision
(异议处理决定书) is a document the subject downloads.

A refusal about a case (a forged number, another department's case, a closed case) is
answered with its code and recorded as ``case.refused`` (``audited_refusal``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from xinyong import clock
from xinyong.accounts.roles import Role
from xinyong.cases import complaints, material, objections, repair, service
from xinyong.cases import files as case_files
from xinyong.cases.decide import decide_case
from xinyong.cases.kinds import KINDS
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.notifications import inbox
from xinyong.records.service import get_record
from xinyong.subjects.models import subjects
from xinyong.web.api.checks import measures_of
from xinyong.web.casework import (
    URGENCY,
    audited_refusal,
    case_calendar,
    case_view,
    evidence_uploads,
    form_text,
    own_subject,
    read_form,
)
from xinyong.web.deps import RowId, check_csrf, page, require_login
from xinyong.web.render import TEMPLATES, render

router = APIRouter()

HANDLING = (Role.CLERK, Role.OPERATOR)


@router.get("/me/objections/new")
def objection_form(request: Request, record: int = Query(ge=1, le=2**63 - 1)) -> Response:
    with page(request) as ctx:
        subject_id = own_subject(ctx)
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
    form, token = await read_form(request)
    uploads = await evidence_uploads(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        own_subject(ctx)
        try:
            record_id = int(form_text(form, "record_id"))
        except ValueError:
            raise XinyongError("RECORD_NOT_FOUND", "没有指定异议所指的记录") from None
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
        view = case_view(ctx, found, staff=False)
        # the follow code is shown once, on this answer, and never stored in the clear
        return render(request, "case.html", {**view, "follow_code": code}, status_code=201)


@router.get("/me/cases/{case_no}")
def my_case(request: Request, case_no: str) -> Response:
    with page(request) as ctx:
        own_subject(ctx)
        with audited_refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
        return render(request, "case.html", case_view(ctx, found, staff=False))


@router.post("/me/cases/{case_no}/material")
async def supply_material(request: Request, case_no: str) -> Response:
    """The subject's supplementary material after a request (补正材料)."""
    form, token = await read_form(request)
    uploads = await evidence_uploads(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        own_subject(ctx)
        with audited_refusal(request, case_no):
            material.supply_material(
                ctx.conn,
                ctx.principal,
                case_calendar(ctx),
                case_no,
                uploads=uploads,
                note=form_text(form, "note"),
                data_dir=ctx.settings.data_dir,
            )
    return RedirectResponse(f"/me/cases/{quote(case_no)}", status_code=303)


@router.post("/me/cases/{case_no}/withdraw")
async def withdraw(request: Request, case_no: str) -> Response:
    form, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        own_subject(ctx)
        with audited_refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
            if found.kind == "repair":
                repair.withdraw(
                    ctx.conn,
                    ctx.principal,
                    case_no,
                    form_text(form, "reason") or "申请人撤回修复申请",
                )
            else:
                objections.withdraw(
                    ctx.conn, ctx.principal, case_no, form_text(form, "reason") or "申请人撤回异议"
                )
    return RedirectResponse(f"/me/cases/{quote(case_no)}", status_code=303)


@router.get("/cases/{case_no}/decision")
def decision(request: Request, case_no: str) -> Response:
    """The decision document, as a download (subject, handling department, operators)."""
    with page(request) as ctx:
        require_login(ctx, Role.SUBJECT, Role.CLERK, Role.OPERATOR, Role.AUDITOR)
        with audited_refusal(request, case_no):
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
        with audited_refusal(request, case_no):
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
        cal = case_calendar(ctx)
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
        with audited_refusal(request, case_no):
            found = service.case_for(ctx.conn, ctx.principal, case_no)
        view = case_view(ctx, found, staff=True)
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
    form, token = await read_form(request)
    reason = form_text(form, "reason")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, *HANDLING)
        cal = case_calendar(ctx)
        with audited_refusal(request, case_no):
            if action == "decide":
                decide_case(
                    ctx.conn,
                    principal,
                    ctx.catalog,
                    measures_of(ctx),
                    case_no,
                    outcome=form_text(form, "outcome"),
                    reason=reason,
                )
            elif action == "pause":
                service.pause(
                    ctx.conn, principal, cal, case_no, cause=form_text(form, "cause"), reason=reason
                )
            elif action == "resume":
                service.resume(ctx.conn, principal, cal, case_no, reason)
            elif action == "assign":
                service.assign(ctx.conn, principal, case_no, form_text(form, "assignee"), reason)
            elif action == "note":
                service.add_note(
                    ctx.conn,
                    principal,
                    case_no,
                    reason,
                    internal=form_text(form, "to") != "subject",
                )
            elif action == "material":
                service.request_material(ctx.conn, principal, cal, case_no, reason)
            elif action == "transfer":
                target = form_text(form, "dept")
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
    _, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, *HANDLING)
        inbox.mark_read(
            ctx.conn, subject_id=None, dept_uscc=principal.dept_uscc, reader=principal.name
        )
    return RedirectResponse("/dept/cases", status_code=303)


@router.post("/me/inbox/read")
async def read_my_inbox(request: Request) -> Response:
    _, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        subject_id = own_subject(ctx)
        inbox.mark_read(ctx.conn, subject_id=subject_id, dept_uscc=None, reader=ctx.principal.name)
    return RedirectResponse("/me#inbox", status_code=303)
