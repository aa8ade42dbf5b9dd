"""The pull feed of notifications (通知) for department systems: list entries, changes and
exits that concern the department's measures, and new records of subjects it subscribed to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from xinyong.notifications.feed import MAX_LIMIT, feed
from xinyong.web.api import answers as out
from xinyong.web.api.contract import token
from xinyong.web.deps import api

router = APIRouter(tags=["通知"])


@router.get(
    "/notifications",
    summary="本部门的通知（按游标续读，至少送达一次）",
    **token(400),
    response_model=out.NotificationPage,
)
def notifications(
    request: Request,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^c1_[A-Za-z0-9_-]+$",
            description="上次返回的 next；不带则从头读取（别的值答 400 CURSOR_INVALID）",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每次条数")] = 100,
) -> dict[str, Any]:
    with api(request) as ctx:
        return feed(ctx.conn, ctx.principal, since=since, limit=limit).as_dict()
