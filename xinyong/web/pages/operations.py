"""The operator's room, what flows through the platform: every department's batches (each
linking to its receipt), the queue of records waiting for a subject link (with the link, as
``xinyong subjects link`` does it), the measures and list kinds by name, and the feedback rates
per department and per measure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from xinyong import clock
from xinyong.assessment.figures import Period
from xinyong.assessment.figures import feedback as timely_feedback
from xinyong.audit import service as audit
from xinyong.batches import service as batches
from xinyong.catalog.lists import ListKind
from xinyong.checks.feedback import feedback_stats
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.measures.catalog import Measure, Measures, Trigger
from xinyong.records import service as records
from xinyong.web.api.checks import measures_of
from xinyong.web.casework import form_text, read_form
from xinyong.web.deps import Ctx, RowId, check_csrf, page
from xinyong.web.errors import status_of
from xinyong.web.pages.operator import (
    attempt,
    dept_choices,
    filter_day,
    known_choice,
    operator,
    page_no,
    pager,
)
from xinyong.web.render import render
from xinyong.workdays.calendar import calendar_dir, work_calendar

router = APIRouter()

BATCH_PAGE = 50
PENDING_PAGE = 20
CHANNELS = {"web": "网页", "api": "接口", "cli": "命令行"}


def _dataset_choices(ctx: Ctx) -> list[tuple[str, str]]:
    return [(code, ds.name) for code, ds in ctx.catalog.datasets.items()]


# -- batches -----------------------------------------------------------------------------------


@router.get("/admin/batches")
def batches_page(request: Request) -> Response:
    q = request.query_params
    with page(request) as ctx:
        principal = operator(ctx)
        names = departments.names(ctx.conn)
        datasets = _dataset_choices(ctx)
        filters = {
            "dept": known_choice((q.get("dept") or "").strip()[:18], list(names.items()), "部门"),
            "dataset": known_choice((q.get("dataset") or "").strip()[:32], datasets, "数据集"),
            "state": known_choice(
                (q.get("state") or "").strip()[:16], batches.BATCH_STATES, "状态"
            ),
            "since": (q.get("since") or "").strip()[:10],
            "until": (q.get("until") or "").strip()[:10],
        }
        where = batches.BatchFilter(
            dept_uscc=filters["dept"] or None,
            dataset=filters["dataset"] or None,
            state=filters["state"] or None,
            since=filter_day(q, "since"),
            until=filter_day(q, "until"),
        )
        number = page_no(q)
        rows, total = batches.search_batches(
            ctx.conn, principal, where, limit=BATCH_PAGE, offset=(number - 1) * BATCH_PAGE
        )
        return render(
            request,
            "op_batches.html",
            {
                "rows": rows,
                "filters": filters,
                "dept_names": names,
                "departments": dept_choices(ctx),
                "datasets": datasets,
                "dataset_names": dict(datasets),
                "states": batches.BATCH_STATES,
                "channels": CHANNELS,
                "pager": pager("/admin/batches", filters, number, total, BATCH_PAGE),
            },
        )


# -- the pending queue -------------------------------------------------------------------------


def _pending_page(
    ctx: Ctx,
    q: QueryParams,
    *,
    error: XinyongError | None = None,
    failed: int | None = None,
    code: str = "",
) -> Response:
    principal = operator(ctx)
    names = departments.names(ctx.conn)
    datasets = _dataset_choices(ctx)
    filters = {
        "dept": known_choice((q.get("dept") or "").strip()[:18], list(names.items()), "部门"),
        "dataset": known_choice((q.get("dataset") or "").strip()[:32], datasets, "数据集"),
    }
    number = page_no(q)
    found, total = records.pending_for(
        ctx.conn,
        principal,
        dataset=filters["dataset"] or None,
        dept_uscc=filters["dept"] or None,
        limit=PENDING_PAGE,
        offset=(number - 1) * PENDING_PAGE,
    )
    rows = records.pending_shown(ctx.conn, ctx.catalog, found)
    if found:
        # names (of people too) of records not yet public: a read of department data
        audit.append_for(
            ctx.conn,
            principal,
            "record.read",
            detail={"part": "pending", "records": [r["id"] for r in found]},
        )
    return render(
        ctx.request,
        "op_pending.html",
        {
            "rows": rows,
            "filters": filters,
            "dept_names": names,
            "departments": dept_choices(ctx),
            "datasets": datasets,
            "pager": pager("/admin/pending", filters, number, total, PENDING_PAGE),
            "error": error,
            "failed": failed,
            "code": code,
            "done": ctx.request.query_params.get("linked") or "",
        },
        status_code=status_of(error) if error else 200,
    )


@router.get("/admin/pending")
def pending_page(request: Request) -> Response:
    with page(request) as ctx:
        return _pending_page(ctx, request.query_params)


@router.post("/admin/pending/{record_id}/link")
async def pending_link(request: Request, record_id: RowId) -> Response:
    form, token = await read_form(request)
    code = form_text(form, "code").strip()[:32]
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = operator(ctx)
        if not code:
            missing = XinyongError("CODE_REQUIRED", "请输入主体的统一社会信用代码或身份证号")
            return _pending_page(ctx, request.query_params, error=missing, failed=record_id)
        linked, error = attempt(
            ctx,
            lambda: records.link_pending_as(ctx.conn, ctx.catalog, principal, record_id, code),
        )
        if linked is None:
            return _pending_page(
                ctx, request.query_params, error=error, failed=record_id, code=code
            )
    back = str(request.url.include_query_params(linked=record_id).query)
    return RedirectResponse(f"/admin/pending?{back}", 303)


# -- measures and list kinds by name -----------------------------------------------------------


def _trigger_text(t: Trigger, m: Measures, kinds: dict[str, ListKind], ctx: Ctx) -> str:
    if t.clean_years:
        return f"连续 {t.clean_years} 年无失信记录"
    if t.dataset:
        ds = ctx.catalog.datasets.get(t.dataset)
        text = f"{ds.name if ds else t.dataset}记录"
        if t.severity and t.severity in m.severities:
            text += f"（{m.severities[t.severity].label}）"
        return text
    # a whole class of lists (as the measures files often name them) by the class's name
    by_class: dict[str, list[str]] = {}
    for code in t.lists:
        kind = kinds.get(code)
        by_class.setdefault(kind.list_class.value if kind else "", []).append(code)
    parts: list[str] = []
    for cls, codes in by_class.items():
        members = [k.code for k in kinds.values() if k.list_class.value == cls]
        if cls and len(codes) > 1 and set(codes) == set(members):
            parts.append(f"任一{cls}（{len(codes)} 类）")
        else:
            parts.extend(kinds[c].name if c in kinds else c for c in codes)
    return "列入" + "、".join(parts)


def _measure_row(m: Measure, measures: Measures, ctx: Ctx) -> dict[str, Any]:
    kinds = ctx.catalog.lists.kinds
    until = f"至 {m.valid_until:%Y-%m-%d}" if m.valid_until else "长期"
    return {
        "measure": m,
        "triggers": [_trigger_text(t, measures, kinds, ctx) for t in m.triggers],
        "matters": [measures.matters[c].name if c in measures.matters else c for c in m.matters],
        "validity": (f"{m.valid_from:%Y-%m-%d} 起" if m.valid_from else "") + until,
    }


@router.get("/admin/catalogue")
def catalogue_page(request: Request) -> Response:
    with page(request) as ctx:
        operator(ctx)
        measures = measures_of(ctx)
        names = departments.names(ctx.conn)
        register = ctx.catalog.lists
        kinds = [
            {
                "kind": k,
                "dataset": ctx.catalog.datasets[k.dataset].name
                if k.dataset in ctx.catalog.datasets
                else k.dataset,
                "designators": [
                    names.get(u, u) for u in sorted(register.designated_by.get(k.code, ()))
                ],
            }
            for k in register.kinds.values()
        ]
        rows = [_measure_row(m, measures, ctx) for m in measures.measures.values()]
        return render(
            request,
            "op_catalogue.html",
            {
                "punishments": [r for r in rows if r["measure"].kind.value == "punishment"],
                "rewards": [r for r in rows if r["measure"].kind.value == "reward"],
                "kinds": kinds,
                "matters": [m for m in measures.matters.values() if not m.retired],
            },
        )


# -- feedback rates ----------------------------------------------------------------------------


@router.get("/admin/feedback")
def feedback_page(request: Request) -> Response:
    with page(request) as ctx:
        operator(ctx)
        today = clock.today(ctx.conn)
        month = Period.month(f"{today:%Y-%m}")
        calendar = work_calendar(calendar_dir(ctx.catalog.root))
        timely = timely_feedback(ctx.conn, calendar, month)
        stats = feedback_stats(ctx.conn)
        measures = measures_of(ctx).measures
        names = departments.names(ctx.conn)
        total = {
            k: sum(r[k] for r in stats["by_department"])
            for k in ("returned", "answered", "applied")
        }
        return render(
            request,
            "op_feedback.html",
            {
                "by_department": [
                    {
                        **r,
                        "name": names.get(r["key"], r["key"] or "平台"),
                        "timely": timely.get(r["key"]),
                    }
                    for r in stats["by_department"]
                ],
                "by_measure": [
                    {
                        **r,
                        "name": measures[r["key"]].content if r["key"] in measures else r["key"],
                        "kind": measures[r["key"]].kind.label if r["key"] in measures else "",
                    }
                    for r in stats["by_measure"]
                ],
                "total": total,
                "month": month.label,
            },
        )
