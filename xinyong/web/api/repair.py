"""Credit repair eligibility (信用修复资格) over the API: for one record, whether it can be
repaired, from which date, under which rule, or why never — the same answer as
``xinyong repair eligibility RECORD_ID --json`` (``cases.repair.record_eligibility``).

Government accounts ask about any record; a subject about its own only (another subject's
record does not exist for it). The public must log in: a record id alone tells it nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from xinyong.accounts.roles import Role
from xinyong.cases import repair
from xinyong.errors import XinyongError
from xinyong.web.api import answers as out
from xinyong.web.api.contract import token
from xinyong.web.deps import RowId, api

router = APIRouter(tags=["信用修复"])


@router.get(
    "/records/{record_id}/repair-eligibility",
    summary="一条记录能否信用修复、何日起可申请、依据哪一规则，或为何不能修复",
    **token(404),
    response_model=out.Open,
)
def repair_eligibility(request: Request, record_id: RowId) -> dict[str, Any]:
    with api(request) as ctx:
        if ctx.principal.role is Role.PUBLIC:
            raise XinyongError("LOGIN_REQUIRED", "请使用账号令牌查询信用修复资格")
        return repair.record_eligibility(ctx.conn, ctx.catalog, ctx.principal, record_id).as_dict()
