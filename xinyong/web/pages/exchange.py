"""The department's exchange desk (数据交换回执): how many of its records were sent to the
province, accepted or rejected, and each rejected record with the reason, to correct and
deliver again. Operators and auditors see every department."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from xinyong.accounts.roles import Role
from xinyong.exchange import ack
from xinyong.exchange.feed import EVENT_LABELS
from xinyong.web.deps import page, require_login
from xinyong.web.render import render

router = APIRouter()


@router.get("/dept/exchange")
def exchange_desk(request: Request) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, Role.CLERK, Role.OPERATOR, Role.AUDITOR)
        return render(
            request,
            "dept_exchange.html",
            {
                "summary": ack.summary(ctx.conn, principal),
                "rejected": ack.rejections(ctx.conn, principal),
                "events": EVENT_LABELS,
            },
        )
