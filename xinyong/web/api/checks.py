"""联合奖惩 checks over the API (a department system's token): check a subject for a business
matter, read a check back, report what was done with each measure."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Role
from xinyong.checks.feedback import FeedbackItem, give_feedback
from xinyong.checks.files import read_bulk_file, write_bulk_result
from xinyong.checks.service import get_check, list_checks, run_bulk_check, run_check
from xinyong.measures.catalog import Measures
from xinyong.web.api import answers as out
from xinyong.web.api.batches import MEDIA
from xinyong.web.api.contract import Day, app_measures, token, writes
from xinyong.web.api.naming import (
    SubjectId,
    subject_code_field,
    subject_id_field,
    subject_named,
)
from xinyong.web.deps import Ctx, RowId, api

router = APIRouter(tags=["联合奖惩核查"])


class CheckRequest(BaseModel):
    subject_code: str | None = Field(None, max_length=30, description="任一代码")
    subject_name: str | None = Field(None, max_length=200, description="名称（只返回候选）")
    matter: str = Field(min_length=1, max_length=40, description="业务事项代码")
    case_ref: str | None = Field(None, max_length=100, description="本部门案卷号")


class FeedbackEntry(BaseModel):
    measure_id: str = Field(max_length=80)
    applied: bool = Field(strict=True)
    reason_code: str | None = Field(None, max_length=40)
    action_date: Day
    case_ref: str | None = Field(None, max_length=100)
    subject_code: str | None = subject_code_field(
        "批量核查时，这项措施所属主体的任一代码（单个核查不必给出）"
    )
    subject_id: SubjectId | None = subject_id_field()


class FeedbackRequest(BaseModel):
    items: list[FeedbackEntry] = Field(min_length=1, max_length=1000)


def measures_of(ctx: Ctx) -> Measures:
    """The measures list, loaded once per application (it is catalogue data)."""
    return app_measures(ctx.request.app.state)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.post(
    "/checks",
    summary="核查一个信用主体（按业务事项给出命中记录与适用措施）",
    **token(*writes(400, 404)),
    status_code=201,
    response_model=out.CheckResult,
)
def check(request: Request, body: CheckRequest) -> Response:
    with api(request, write=True) as ctx:
        result = run_check(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            ctx.principal,
            subject_code=body.subject_code,
            subject_name=body.subject_name,
            matter=body.matter,
            case_ref=body.case_ref,
            settings=ctx.settings,
        )
    # Answered as built: ``CheckResult.as_dict`` names every field, and validating the answer
    # against ``out.CheckResult`` again (a copy of every hit and measure) was a tenth of the
    # framework's cost of a check (bench/check.py). The model still documents the answer, and
    # the API fuzz test holds the answers to it.
    return _json_answer(result.as_dict(), 201)


# Integers orjson writes as JSON does (it refuses larger ones).
_ORJSON_INTS = 2**63


def _json_answer(value: dict[str, Any], status: int) -> Response:
    """``JSONResponse(_plain(value))`` with the same bytes, written by orjson (a quarter of
    the cost of the standard library's encoder for a check's answer). Floats (which the two
    write differently) and integers past 64 bits go the standard way."""
    plain, exact = _plain_checked(value)
    if not exact:
        return JSONResponse(plain, status_code=status)
    body = orjson.dumps(plain, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status, media_type="application/json")


def _plain_checked(value: Any) -> tuple[Any, bool]:
    """``_plain``, and whether orjson writes the result as the standard library does."""
    exact = True

    def walk(v: Any) -> Any:
        nonlocal exact
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, float) or (isinstance(v, int) and abs(v) >= _ORJSON_INTS):
            exact = False
        elif hasattr(v, "isoformat"):
            return v.isoformat()
        return v

    return walk(value), exact


@router.post(
    "/checks/bulk",
    summary="批量核查：上传主体清单（至多 10 万行），返回逐行结果文件及与上次同名核查的差异",
    **token(*writes(400, 422), files=(MEDIA["csv"], MEDIA["xlsx"])),
    response_class=Response,
)
def bulk_check(
    request: Request,
    file: Annotated[UploadFile, File(description="主体清单，含“统一社会信用代码”或“名称”列")],
    matter: Annotated[str, Form(min_length=1, max_length=40, description="业务事项代码")],
    name: Annotated[
        str | None, Form(max_length=100, description="核查名称，用于与上次比较")
    ] = None,
    output: Annotated[str, Form(pattern="^(csv|xlsx)$", description="结果格式")] = "csv",
) -> Response:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / ("input" + Path(file.filename or "list.csv").suffix.lower()[:6])
        with source.open("wb") as fh:
            shutil.copyfileobj(file.file, fh)
        with api(request, write=True) as ctx:
            # who may check is decided before the file is even read
            require_role(ctx.principal, Role.CLERK, Role.DEPT_SYSTEM, Role.OPERATOR)
            rows = read_bulk_file(source)
            result = run_bulk_check(
                ctx.conn,
                ctx.catalog,
                measures_of(ctx),
                ctx.principal,
                rows,
                matter=matter,
                name=name or None,
                settings=ctx.settings,
            )
        target = Path(tmp) / f"check-{result.check_id}.{output}"
        write_bulk_result(target, result.rows)
        body = target.read_bytes()
    summary = json.dumps(_plain(result.summary()), ensure_ascii=True)
    return Response(
        body,
        media_type=MEDIA[output],
        headers={
            "Content-Disposition": f'attachment; filename="check-{result.check_id}.{output}"',
            "X-Xinyong-Check-Id": str(result.check_id),
            "X-Xinyong-Summary": summary,
        },
    )


@router.get("/checks", summary="本部门的核查记录", **token(), response_model=out.Items)
def checks(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    with api(request) as ctx:
        return {"items": _plain(list_checks(ctx.conn, ctx.principal, limit=limit))}


@router.get(
    "/checks/{check_id}", summary="一次核查的命中与措施", **token(404), response_model=out.Open
)
def check_detail(request: Request, check_id: RowId) -> dict[str, Any]:
    with api(request) as ctx:
        return _plain(get_check(ctx.conn, ctx.principal, check_id))  # type: ignore[no-any-return]


@router.post(
    "/checks/{check_id}/feedback",
    summary="反馈各项措施的实施情况",
    **token(*writes(400, 404, 409)),
    status_code=201,
    response_model=out.FeedbackGiven,
)
def feedback(request: Request, check_id: RowId, body: FeedbackRequest) -> dict[str, Any]:
    with api(request, write=True) as ctx:
        items = [
            FeedbackItem(
                **entry.model_dump(exclude={"subject_code", "subject_id"}),
                subject_id=subject_named(ctx.conn, entry.subject_code, entry.subject_id)
                if entry.subject_code or entry.subject_id
                else None,
            )
            for entry in body.items
        ]
        rows = give_feedback(ctx.conn, measures_of(ctx), ctx.principal, check_id, items)
        return {"check_id": check_id, "measures": _plain(rows)}
