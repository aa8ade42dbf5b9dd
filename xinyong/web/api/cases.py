"""Cases (办件) over the API: department systems (token) work their queue — list, show,
decide, pause, resume, ask for material; subjects (their logged-in session; writes carry the
session's CSRF token in ``X-CSRF-Token``) list and follow their own cases, file an objection
and supply requested material. Every route calls the same service functions as the pages and
``xinyong cases``; a refusal answers ``{"error": {"code", "message"}}`` with a stable code and
is audited (``case.refused``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Role
from xinyong.cases import files as case_files
from xinyong.cases import material, objections, service
from xinyong.cases.decide import decide_case
from xinyong.web.api import answers as out
from xinyong.web.api.checks import measures_of
from xinyong.web.api.contract import token_or_session, writes
from xinyong.web.casework import audited_refusal, case_calendar
from xinyong.web.deps import MAX_ID, Ctx, api_or_session

router = APIRouter(tags=["办件（异议、信用修复）"])

CaseNo = Annotated[str, Path(max_length=40, description="办件编号")]


# who may call what, decided before the case is looked up (so that a role that can never act
# is refused as such, not told that a number does not exist)
VIEWERS = (Role.SUBJECT, Role.CLERK, Role.DEPT_SYSTEM, Role.OPERATOR, Role.AUDITOR)
HANDLERS = (Role.CLERK, Role.DEPT_SYSTEM, Role.OPERATOR)


class Decision(BaseModel):
    outcome: str = Field(
        max_length=40,
        description="异议：corrected / partly_corrected / upheld；信用修复：approved / rejected",
    )
    reason: str = Field(min_length=1, max_length=2000, description="决定的理由（告知申请人）")


class Pause(BaseModel):
    cause: str = Field(
        "inspection", max_length=20, description="inspection：检验、检测、鉴定；material：补正材料"
    )
    reason: str = Field(min_length=1, max_length=500, description="中止计时的理由")


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="理由或需补正的材料")


def _one(ctx: Ctx, found: service.Case) -> dict[str, Any]:
    staff = service.may_handle(ctx.principal, found) or ctx.principal.role.value == "auditor"
    today = clock.today(ctx.conn)
    return found.as_dict() | {
        "urgency": found.urgency(today, case_calendar(ctx)),
        "material_requested": found.is_open and material.outstanding_request(ctx.conn, found.id),
        "events": [
            {
                "kind": e["kind"],
                "from_state": e["from_state"],
                "to_state": e["to_state"],
                "reason": e["reason"],
                "at": e["at"].isoformat(),
                **({"actor": e["actor"], "internal": e["internal"]} if staff else {}),
            }
            for e in service.history(ctx.conn, found.id, internal=staff)
        ],
        "files": [
            {
                "id": f["id"],
                "name": f["original_name"],
                "media_type": f["media_type"],
                "size": f["size"],
                "sha256": f["sha256"],
            }
            for f in case_files.files_of(ctx.conn, found.id)
        ],
    }


async def evidence_uploads(files: list[UploadFile] | None) -> list[case_files.Upload]:
    out = []
    for item in files or []:
        if item.filename:
            data = await item.read(case_files.MAX_FILE_BYTES + 1)
            out.append(case_files.Upload(item.filename[:200], data))
    return out


@router.get(
    "/cases",
    summary="办件列表：部门系统为本部门队列（超期、临期在前），信用主体为本人办件",
    **token_or_session(400),
    response_model=out.CaseList,
)
def list_cases(
    request: Request,
    kind: Annotated[
        Literal["objection", "repair", "complaint"] | None,
        Query(description="objection 异议 / repair 信用修复 / complaint 失信举报"),
    ] = None,
    closed: Annotated[bool, Query(description="包括已办结的办件")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    with api_or_session(request) as ctx:
        require_role(ctx.principal, *VIEWERS)
        found = service.list_cases(
            ctx.conn, ctx.principal, kind=kind, open_only=not closed, limit=limit
        )
        today = clock.today(ctx.conn)
        cal = case_calendar(ctx)
        return {"items": [c.as_dict() | {"urgency": c.urgency(today, cal)} for c in found]}


@router.post(
    "/cases/objections",
    summary="提出异议（信用主体对本主体的记录或名单；部门经办人窗口代录）",
    **token_or_session(*writes(400, 404, 409)),
    status_code=201,
    response_model=out.CaseOut,
)
async def file_objection(
    request: Request,
    record_id: Annotated[int, Form(ge=1, le=MAX_ID, description="异议所指的记录编号")],
    reason: Annotated[str, Form(min_length=1, max_length=2000, description="异议事由")],
    evidence: Annotated[
        list[UploadFile],
        File(default_factory=list, description="证据材料（PDF、JPEG、PNG，按内容识别）"),
    ],
    route: Annotated[
        Literal["department", "platform"],
        Form(description="department 向认定部门提出 或 platform 向平台提出"),
    ] = "department",
) -> dict[str, Any]:
    uploads = await evidence_uploads(evidence)
    with api_or_session(request, write=True) as ctx, audited_refusal(request, ""):
        found, code = objections.file_objection(
            ctx.conn,
            ctx.principal,
            case_calendar(ctx),
            record_id,
            reason=reason,
            route=route,
            uploads=uploads,
            data_dir=ctx.settings.data_dir,
        )
        # the follow code is returned this once and stored only as a hash
        return _one(ctx, found) | {"follow_code": code}


@router.get(
    "/cases/{case_no}",
    summary="一个办件及其办理过程",
    **token_or_session(404),
    response_model=out.CaseOut,
)
def show_case(request: Request, case_no: CaseNo) -> dict[str, Any]:
    with api_or_session(request) as ctx, audited_refusal(request, case_no):
        require_role(ctx.principal, *VIEWERS)
        return _one(ctx, service.case_for(ctx.conn, ctx.principal, case_no))


@router.post(
    "/cases/{case_no}/decision",
    summary="作出办理决定并办结（办理部门）",
    **token_or_session(*writes(400, 404, 409)),
    response_model=out.CaseOut,
)
def decide(request: Request, case_no: CaseNo, body: Decision) -> dict[str, Any]:
    with api_or_session(request, write=True) as ctx, audited_refusal(request, case_no):
        require_role(ctx.principal, *HANDLERS)
        closed = decide_case(
            ctx.conn,
            ctx.principal,
            ctx.catalog,
            measures_of(ctx),
            case_no,
            outcome=body.outcome,
            reason=body.reason,
        )
        return _one(ctx, closed)


@router.post(
    "/cases/{case_no}/pause",
    summary="中止计时（办理部门）",
    **token_or_session(*writes(400, 404, 409)),
    response_model=out.CaseOut,
)
def pause(request: Request, case_no: CaseNo, body: Pause) -> dict[str, Any]:
    with api_or_session(request, write=True) as ctx, audited_refusal(request, case_no):
        require_role(ctx.principal, *HANDLERS)
        found = service.pause(
            ctx.conn,
            ctx.principal,
            case_calendar(ctx),
            case_no,
            cause=body.cause,
            reason=body.reason,
        )
        return _one(ctx, found)


@router.post(
    "/cases/{case_no}/resume",
    summary="恢复计时，期限顺延（办理部门）",
    **token_or_session(*writes(400, 404, 409)),
    response_model=out.CaseOut,
)
def resume(request: Request, case_no: CaseNo, body: Reason) -> dict[str, Any]:
    with api_or_session(request, write=True) as ctx, audited_refusal(request, case_no):
        require_role(ctx.principal, *HANDLERS)
        found = service.resume(ctx.conn, ctx.principal, case_calendar(ctx), case_no, body.reason)
        return _one(ctx, found)


@router.post(
    "/cases/{case_no}/material-request",
    summary="要求申请人补正材料（办理部门）",
    **token_or_session(*writes(400, 404, 409)),
    response_model=out.CaseOut,
)
def request_material(request: Request, case_no: CaseNo, body: Reason) -> dict[str, Any]:
    with api_or_session(request, write=True) as ctx, audited_refusal(request, case_no):
        require_role(ctx.principal, *HANDLERS)
        found = service.request_material(
            ctx.conn, ctx.principal, case_calendar(ctx), case_no, body.reason
        )
        return _one(ctx, found)


@router.post(
    "/cases/{case_no}/material",
    summary="补正材料（申请人）",
    **token_or_session(*writes(400, 404, 409)),
    status_code=201,
    response_model=out.CaseOut,
)
async def supply_material(
    request: Request,
    case_no: CaseNo,
    evidence: Annotated[
        list[UploadFile], File(min_length=1, description="补正材料（PDF、JPEG、PNG），至少一个")
    ],
    note: Annotated[str | None, Form(max_length=2000, description="说明")] = None,
) -> dict[str, Any]:
    uploads = await evidence_uploads(evidence)
    with api_or_session(request, write=True) as ctx, audited_refusal(request, case_no):
        require_role(ctx.principal, Role.SUBJECT)
        found = material.supply_material(
            ctx.conn,
            ctx.principal,
            case_calendar(ctx),
            case_no,
            uploads=uploads,
            note=note,
            data_dir=ctx.settings.data_dir,
        )
        return _one(ctx, found)
