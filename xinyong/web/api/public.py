"""Public queries: subject search, profiles, records, 双公示 and 红黑榜 (no login needed)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from xinyong.accounts.purposes import MAX_CHARS
from xinyong.portal import service as portal
from xinyong.portal.search import search_subjects
from xinyong.portal.service import ListPaging, Paging
from xinyong.web.api import answers as out
from xinyong.web.api.contract import Day, open_to_all, public
from xinyong.web.clients import client_address
from xinyong.web.deps import DEPT_CODE, RowId, api

router = APIRouter(tags=["公开查询"])

PageNo = Annotated[int, Query(ge=1, le=100_000, description="页码，从 1 开始")]
PageSize = Annotated[int, Query(ge=1, le=portal.MAX_PAGE_SIZE, description="每页条数")]
# Keyset paging of the public lists: the cursors come from the answer's next / prev.
After = Annotated[str | None, Query(max_length=40, description="下一页：上一次答复中的 next 值")]
Before = Annotated[str | None, Query(max_length=40, description="上一页：上一次答复中的 prev 值")]


def limit(request: Request, bucket: str) -> None:
    settings = request.app.state.settings
    per_minute = getattr(settings, f"rate_limit_{bucket}_per_minute")
    request.app.state.limiter.hit(bucket, client_address(request), per_minute)


@router.get(
    "/health", summary="服务是否在运行（不读数据库；也是基准测试的框架上限）", **open_to_all()
)
def health() -> out.Health:
    return out.Health(status="ok")


@router.get("/subjects", summary="按名称片段或任一代码查找信用主体", **public(400, 429))
def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=100, description="名称片段或代码")],
    page: PageNo = 1,
    size: PageSize = 20,
) -> out.SearchPage:
    limit(request, "search")
    paging = Paging(page, size)
    with api(request) as ctx:
        found = search_subjects(
            ctx.conn,
            q,
            ctx.principal,
            offset=paging.offset,
            limit=paging.size,
            catalog_root=ctx.catalog.root,
        )
        return out.SearchPage(
            **found.as_dict(),
            page=page,
            size=size,
            as_of=portal.data_as_of(ctx.conn).isoformat(),
        )


Purpose = Annotated[
    str | None,
    Query(
        max_length=MAX_CHARS,
        description=(
            "查询事由。政务部门（部门系统、经办人、管理员、审计员）查看非公开信息（政务共享、"
            "授权查询）须写明，如 行政审批、日常监管、执法检查、评优评先、招标采购 或具体用途；"
            "未写明时只答向社会公开的信息（答复中 purpose_required 为 true），"
            "指名只有事由才能查看的数据集答 400 PURPOSE_REQUIRED；写明的事由记入审计日志，"
            "信用主体可以查询。授权查询信息的事由须与授权书所写用途一致。"
        ),
    ),
]


@router.get("/subjects/{subject_id}", summary="信用主体概览", **public(400, 403, 404))
def profile(request: Request, subject_id: RowId, purpose: Purpose = None) -> out.Open:
    with api(request) as ctx:
        return out.Open(
            **portal.subject_profile(ctx.conn, ctx.catalog, ctx.principal, subject_id, purpose)
        )


@router.get(
    "/subjects/{subject_id}/records",
    summary="信用主体的信用记录（分页）",
    **public(400, 403, 404),
    response_model=out.Listing,
)
def subject_records(
    request: Request,
    subject_id: RowId,
    dataset: Annotated[str | None, Query(max_length=32, description="数据集代码")] = None,
    tab: Annotated[str | None, Query(max_length=10, description="栏目名称")] = None,
    page: PageNo = 1,
    size: PageSize = 20,
    purpose: Purpose = None,
) -> dict[str, Any]:
    with api(request) as ctx:
        return portal.subject_records(
            ctx.conn,
            ctx.catalog,
            ctx.principal,
            subject_id,
            dataset=dataset,
            tab=tab,
            paging=Paging(page, size),
            purpose=purpose,
        )


@router.get(
    "/publicity/{kind}",
    summary="双公示：行政许可（xzxk）或行政处罚（xzcf）",
    **public(400, 404, 429),
    response_model=out.Listing,
)
def publicity(
    request: Request,
    kind: Literal["xzxk", "xzcf"],
    dept: Annotated[
        str | None, Query(pattern=DEPT_CODE, max_length=18, description="部门统一社会信用代码")
    ] = None,
    date_from: Annotated[Day | None, Query(description="决定日期起")] = None,
    date_to: Annotated[Day | None, Query(description="决定日期止")] = None,
    type: Annotated[
        str | None,
        Query(
            max_length=20,
            description="许可类别或处罚类别：目录中的取值代码或名称（如 03 或 罚款），其他值答 400",
        ),
    ] = None,
    after: After = None,
    before: Before = None,
    size: PageSize = 20,
) -> dict[str, Any]:
    limit(request, "list")
    with api(request) as ctx:
        return portal.publicity_list(
            ctx.conn,
            ctx.catalog,
            kind,
            dept=dept,
            date_from=date_from,
            date_to=date_to,
            type_=type,
            paging=ListPaging(size, after, before),
        )


@router.get(
    "/lists/{kind}",
    summary="红黑榜：守信红名单（red）或失信黑名单（black）",
    **public(400, 404, 429),
    response_model=out.Listing,
)
def lists(
    request: Request,
    kind: Literal["red", "black"],
    dept: Annotated[
        str | None, Query(pattern=DEPT_CODE, max_length=18, description="认定部门统一社会信用代码")
    ] = None,
    after: After = None,
    before: Before = None,
    size: PageSize = 20,
) -> dict[str, Any]:
    limit(request, "list")
    with api(request) as ctx:
        return portal.red_black_list(
            ctx.conn, ctx.catalog, kind, dept=dept, paging=ListPaging(size, after, before)
        )
