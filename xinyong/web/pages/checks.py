"""联合奖惩 in the browser: a clerk checks a subject for a business matter, reads the hits and
the measures that apply, and reports what was done with each (反馈)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong import clock
from xinyong.accounts.roles import Role
from xinyong.checks.feedback import FeedbackItem, give_feedback, overdue_checks
from xinyong.checks.queries import check_view
from xinyong.checks.service import get_check, list_checks, run_check
from xinyong.errors import XinyongError
from xinyong.evaluation import service as evaluation
from xinyong.portal.search import search_subjects
from xinyong.web.api.checks import measures_of
from xinyong.web.deps import Ctx, RowId, check_csrf, page, require_login
from xinyong.web.errors import status_of
from xinyong.web.pages.operator import attempt
from xinyong.web.render import render

router = APIRouter()

CHECKING = (Role.CLERK, Role.OPERATOR)


@router.get("/checks")
def checks_home(request: Request) -> Response:
    with page(request) as ctx:
        return _home(ctx)


def _home(
    ctx: Ctx, *, error: XinyongError | None = None, values: dict[str, str] | None = None
) -> Response:
    """The check form (with a refusal shown on it and what was typed kept), the overdue
    feedback and the department's checks."""
    principal = require_login(ctx, *CHECKING)
    measures = measures_of(ctx)
    return render(
        ctx.request,
        "checks.html",
        {
            "matters": [m for m in measures.matters.values() if not m.retired],
            "checks": list_checks(ctx.conn, principal, limit=50),
            "overdue": overdue_checks(ctx.conn, principal.dept_uscc, as_of=clock.today(ctx.conn)),
            "matter_names": {c: m.name for c, m in measures.matters.items()},
            "error": error,
            "values": values or {},
        },
        status_code=status_of(error) if error else 200,
    )


@router.post("/checks")
async def run(request: Request) -> Response:
    form = await request.form()
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        principal = require_login(ctx, *CHECKING)
        entered = fields.get("subject", "")[:200]
        values = {k: fields.get(k, "") for k in ("subject", "matter", "case_ref")}
        # a code-shaped entry goes by code; anything else is a name: candidates to choose from
        if not (entered.replace(" ", "").isalnum() and entered.isascii()):
            shown, error = attempt(ctx, lambda: _candidates(ctx, entered, values))
            return shown or _home(ctx, error=error, values=values)
        result, error = attempt(
            ctx,
            lambda: run_check(
                ctx.conn,
                ctx.catalog,
                measures_of(ctx),
                principal,
                subject_code=entered,
                matter=fields.get("matter", ""),
                case_ref=fields.get("case_ref") or None,
                settings=ctx.settings,
            ),
        )
        if result is None:
            return _home(ctx, error=error, values=values)
    return RedirectResponse(f"/checks/{result.check_id}", status_code=303)


def _candidates(ctx: Ctx, name: str, values: dict[str, str]) -> Response:
    """Subjects whose name holds what was typed (the portal's search, as a government role
    sees it): the clerk picks one and the check runs by its code; nothing is guessed."""
    principal = require_login(ctx, *CHECKING)
    matter = measures_of(ctx).matter(values.get("matter", ""))
    found = search_subjects(ctx.conn, name, principal, limit=20, catalog_root=ctx.catalog.root)
    return render(
        ctx.request,
        "check_candidates.html",
        {
            "name": name,
            "matter": matter,
            "case_ref": values.get("case_ref", ""),
            "candidates": [i.as_dict() for i in found.items],
            "more": found.has_more,
        },
    )


@router.get("/checks/{check_id}")
def check_page(request: Request, check_id: RowId) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *CHECKING, Role.AUDITOR)
        measures = measures_of(ctx)
        check = check_view(
            ctx.conn, ctx.catalog, measures, get_check(ctx.conn, principal, check_id)
        )
        return render(
            request,
            "check.html",
            {
                "check": check,
                "measures": measures.measures,
                "reasons": list(measures.reasons.values()),
                "matter": measures.matters.get(check["matter"]),
                "today": clock.today(ctx.conn).isoformat(),  # the latest day feedback may name
                "can_answer": principal.role in CHECKING,
                # 分类监管: the subject's class now, with the model's inspection advice
                "supervision": evaluation.supervision(ctx.conn, ctx.catalog, check["subject_id"])
                if check.get("subject_id")
                else [],
            },
        )


@router.post("/checks/{check_id}/feedback")
async def feedback(request: Request, check_id: RowId) -> Response:
    form = await request.form()
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        principal = require_login(ctx, *CHECKING)
        try:
            action_date = date.fromisoformat(fields.get("action_date", ""))
            subject_id = int(fields["subject_id"]) if fields.get("subject_id") else None
        except ValueError:
            raise XinyongError("FEEDBACK_INVALID", "日期格式应为 YYYY-MM-DD") from None
        item = FeedbackItem(
            measure_id=fields.get("measure_id", ""),
            applied=fields.get("applied") == "yes",
            reason_code=fields.get("reason_code") or None,
            action_date=action_date,
            case_ref=fields.get("case_ref") or None,
            subject_id=subject_id,
        )
        give_feedback(ctx.conn, measures_of(ctx), principal, check_id, [item])
    return RedirectResponse(f"/checks/{check_id}", status_code=303)
