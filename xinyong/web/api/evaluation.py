"""Credit evaluation over the API: a subject's grade and its explanation (the subject itself and
government, stating its purpose, see the points by indicator with the records and what would
change; anyone else what the model publishes), and for operators the grade distribution of a run
with its PSI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from xinyong import clock
from xinyong.evaluation import service
from xinyong.evaluation.profile import read_profile
from xinyong.web.api import answers as out
from xinyong.web.api.contract import public, token
from xinyong.web.api.public import Purpose
from xinyong.web.deps import MAX_ID, RowId, api

router = APIRouter(tags=["信用评价"])

ModelCode = Annotated[str, Path(max_length=40, description="评价模型代码，如 QYGGXY、GRXYJF")]
RunId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="评价批次编号（默认当前批次）")]


@router.get(
    "/subjects/{subject_id}/evaluation/{model}",
    summary=(
        "主体的信用评价结果及说明（本人可见各指标得分、依据记录和等级变化；"
        "政府部门须写明查询事由 purpose，查看记入审计日志）"
    ),
    **public(400, 403, 404),
    response_model=out.Open,
)
def subject_evaluation(
    request: Request,
    subject_id: RowId,
    model: ModelCode,
    run: RunId = None,
    purpose: Purpose = None,
) -> dict[str, Any]:
    with api(request) as ctx:
        return service.explain(
            ctx.conn, ctx.catalog, ctx.principal, model, subject_id, run_id=run, purpose=purpose
        )


@router.get(
    "/evaluation/{model}/monitor",
    summary="评价批次的等级分布（按行业、区域）及与上一批次相比的群体稳定性指数（PSI）",
    **token(400, 404),
    response_model=out.Open,
)
def evaluation_monitor(request: Request, model: ModelCode, run: RunId = None) -> dict[str, Any]:
    with api(request) as ctx:
        return service.monitor(ctx.conn, ctx.catalog, ctx.principal, model, run_id=run).as_dict()


@router.get(
    "/subjects/{subject_id}/profiles/{code}",
    summary="中小企业融资信用信息（信易贷）：仅向企业本人或取得企业书面授权的机构提供",
    **public(400, 403, 404),
    response_model=out.Open,
)
def subject_profile(
    request: Request,
    subject_id: RowId,
    code: Annotated[str, Path(max_length=40, description="信息包代码，如 XYD")],
) -> dict[str, Any]:
    with api(request) as ctx:
        return read_profile(
            ctx.conn, ctx.catalog, ctx.principal, code, subject_id, clock.today(ctx.conn)
        )
