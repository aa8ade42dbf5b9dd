"""The pull feed of notifications (通知) for department systems: list entries, changes and
exits that concern the department's measures, and new records of subjects it subscribed to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from xinyong.notifications.feed import MAX_LIMIT, feed
from xinyong.web.deps import api

router = APIRouter(tags=["通知"])


@router.get("/notifications", summary="本部门的通知（按游标续读，至少送达一次）")
def notifications(
    request: Request,
    since: Annotated[
        str | None, Query(max_length=64, description="上次返回的 next；不带则从头读取")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每次条数")] = 100,
) -> dict[str, Any]:
    with api(request) as ctx:
        return feed(ctx.conn, ctx.principal, since=since, limit=limit).as_dict()
