"""The exchange's service interface (GB/T 39443 服务方式): a peer platform's system pulls the
shared changes after its cursor with its token; a department reads what the province rejected."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from xinyong.exchange import ack
from xinyong.exchange.outbound import MAX_PULL, pull
from xinyong.web.api import answers as out
from xinyong.web.api.contract import token
from xinyong.web.deps import api

router = APIRouter(tags=["数据交换"])


@router.get(
    "/exchange/changes",
    summary="按游标拉取可共享的变更（交换结点系统账号）",
    **token(400),
    response_model=out.Open,
)
def changes(
    request: Request,
    cursor: Annotated[
        str | None, Query(max_length=64, description="上次返回的 next；不带则从头读取")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL, description="每次条数")] = 500,
) -> dict[str, Any]:
    with api(request) as ctx:
        return pull(ctx.conn, ctx.catalog, ctx.principal, cursor=cursor, limit=limit)


@router.get(
    "/exchange/rejections",
    summary="被省级平台退回的本部门记录及原因",
    **token(),
    response_model=out.Open,
)
def rejections(request: Request) -> dict[str, Any]:
    with api(request) as ctx:
        return {
            "summary": ack.summary(ctx.conn, ctx.principal),
            "items": [r.as_dict() for r in ack.rejections(ctx.conn, ctx.principal)],
        }
