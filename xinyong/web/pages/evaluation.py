"""Credit evaluation pages: the subject's own grades with their explanation (/me/evaluation),
and the operators' monitoring page (/admin/evaluation): the grade distribution of a run overall,
by industry and by district, drawn as inline SVG bars (no script, nothing fetched), with the
PSI against the previous run and the alerts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts.roles import Role
from xinyong.cases import grades
from xinyong.errors import NotFound, XinyongError
from xinyong.evaluation import service
from xinyong.evaluation.monitor import Distribution
from xinyong.web.casework import case_calendar, form_text, read_form
from xinyong.web.deps import check_csrf, page, require_login
from xinyong.web.render import render

router = APIRouter()

# one colour per grade, best first (the last ones read as warnings)
PALETTE = [
    "#1d6b3a",
    "#2f8a4a",
    "#58a55c",
    "#8dbb5a",
    "#c9c04a",
    "#e0a23a",
    "#d9752f",
    "#c2452b",
    "#9b1c1c",
]
INDUSTRY_NAMES = {
    "A": "农林牧渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力热力燃气及水",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输仓储邮政",
    "H": "住宿和餐饮业",
    "I": "信息技术服务",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务",
    "M": "科学研究技术服务",
    "N": "水利环境公共设施",
    "O": "居民服务修理",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化体育娱乐",
    "S": "公共管理社会组织",
}


@router.post("/me/evaluation/objection")
async def object_to_grade(request: Request) -> Response:
    """评价异议: the subject objects to its grade in one model; the credit office decides."""
    form, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, Role.SUBJECT)
        if principal.subject_id is None:
            raise XinyongError("SUBJECT_NOT_LINKED", "该账号未关联信用主体，请联系信用办")
        found, _ = grades.file_grade_objection(
            ctx.conn,
            principal,
            case_calendar(ctx),
            ctx.catalog,
            model=form_text(form, "model"),
            subject_id=principal.subject_id,
            reason=form_text(form, "reason"),
        )
    return RedirectResponse(f"/me/cases/{found.case_no}", status_code=303)


@router.get("/me/evaluation")
def my_evaluation(request: Request) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, Role.SUBJECT)
        if principal.subject_id is None:
            raise XinyongError("SUBJECT_NOT_LINKED", "该账号未关联信用主体，请联系信用办")
        found = service.evaluations_of(ctx.conn, ctx.catalog, principal, principal.subject_id)
        return render(request, "me_evaluation.html", {"evaluations": found})


def _stack(counts: dict[str, int], grades: list[str]) -> list[dict[str, Any]]:
    """The segments of one 100 % bar: grade, count, share, x and width in percent."""
    total = sum(counts.values()) or 1
    x = 0.0
    out = []
    for n, g in enumerate(grades):
        count = counts.get(g, 0)
        width = 100.0 * count / total
        out.append(
            {
                "grade": g,
                "count": count,
                "share": count / total,
                "x": round(x, 3),
                "width": round(width, 3),
                "color": PALETTE[min(n * len(PALETTE) // max(len(grades), 1), len(PALETTE) - 1)],
            }
        )
        x += width
    return out


def _chart(dist: Distribution) -> dict[str, Any]:
    peak = max(dist.overall.values(), default=0) or 1
    overall = [
        {**seg, "height": round(100.0 * seg["count"] / peak, 3)}
        for seg in _stack(dist.overall, dist.grades)
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, by in dist.by.items():
        rows = []
        for group, counts in sorted(by.items()):
            label = INDUSTRY_NAMES.get(group, group) if name == "industry" else group
            rows.append(
                {
                    "group": group,
                    "label": label,
                    "total": sum(counts.values()),
                    "segments": _stack(counts, dist.grades),
                    "psi": dist.psi_by.get(name, {}).get(group),
                }
            )
        groups[name] = rows
    return {"overall": overall, "groups": groups}


@router.get("/admin/evaluation")
def evaluation_desk(request: Request, model: str = "QYGGXY", run: int | None = None) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, Role.OPERATOR, Role.AUDITOR)
        models = service.models(ctx.catalog)
        try:
            dist = service.monitor(ctx.conn, ctx.catalog, principal, model, run_id=run)
        except NotFound as exc:
            return render(
                request,
                "evaluation_admin.html",
                {"models": models, "model": model, "missing": exc.message},
            )
        return render(
            request,
            "evaluation_admin.html",
            {
                "models": models,
                "model": model,
                "dist": dist,
                "chart": _chart(dist),
                "runs": service.run_list(ctx.conn, ctx.catalog, principal, model),
            },
        )
