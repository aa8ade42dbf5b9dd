"""Department deliveries over the API (a department system's token): send a file, read the
receipt, list past batches, download a batch's rejects file."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from xinyong.accounts.policy import acting_department
from xinyong.audit import service as audit
from xinyong.batches import service as batches
from xinyong.errors import XinyongError
from xinyong.ingest.delivery import deliver, received_file
from xinyong.web.deps import RowId, api

log = logging.getLogger(__name__)

router = APIRouter(tags=["部门报送"])

MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson",
}


def audit_refused_delivery(request: Request, error: Exception, detail: dict[str, Any]) -> None:
    """A refused delivery (a domain error: ``denied``) or one that failed (anything else, which
    answers 500: ``failed``) leaves an event although its transaction rolled back."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return
    refused = isinstance(error, XinyongError)
    code = error.code if isinstance(error, XinyongError) else "INTERNAL_ERROR"
    try:
        audit.append_for_independently(
            request.app.state.engine,
            principal,
            action="batch.ingest",
            outcome="denied" if refused else "failed",
            detail={**detail, "code": code, **({} if refused else {"error": type(error).__name__})},
        )
    except Exception:  # the answer to the delivery must still go out
        log.exception("could not audit a refused or failed delivery")


@router.post("/batches", summary="报送一个文件（CSV、XLSX 或 JSON Lines）", status_code=201)
def create_batch(
    request: Request,
    dataset: Annotated[str, Form(min_length=1, max_length=32, description="数据集代码或名称")],
    file: Annotated[UploadFile, File(description="报送文件")],
    dept: Annotated[
        str | None, Form(max_length=18, description="部门代码（仅平台管理员需要）")
    ] = None,
) -> dict[str, Any]:
    name = Path(file.filename or "upload").name[:200]
    detail = {"file": name, "dataset": dataset, "channel": "api"}
    try:
        with api(request, write=True) as ctx:
            # who may deliver, decided before the upload touches storage
            acting_department(ctx.principal, dept)
            with received_file(
                ctx.settings.data_dir, file.file, name, max_bytes=ctx.settings.max_delivery_bytes
            ) as path:
                receipt = deliver(
                    ctx.conn,
                    ctx.catalog,
                    ctx.principal,
                    path=path,
                    dataset=dataset,
                    file_name=name,
                    channel="api",
                    dept_uscc=dept,
                    chunk_rows=ctx.settings.ingest_chunk_rows,
                )
                return receipt.as_dict()
    except XinyongError as exc:
        if not exc.code.startswith(("TOKEN_", "ROLE_")):
            audit_refused_delivery(request, exc, detail)
        raise
    except Exception as exc:
        audit_refused_delivery(request, exc, detail)
        raise


@router.get("/batches", summary="本部门的报送批次")
def list_batches(
    request: Request,
    dataset: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    with api(request) as ctx:
        items = batches.batches_for(
            ctx.conn, ctx.principal, dataset=dataset, limit=size, offset=(page - 1) * size
        )
        return {"page": page, "size": size, "items": [_plain(b) for b in items]}


@router.get("/batches/{batch_id}", summary="一个批次的回执：计数与被拒记录、提示（分页）")
def get_batch(
    request: Request,
    batch_id: RowId,
    page: Annotated[int, Query(ge=1, le=100_000, description="被拒行与提示的页码")] = 1,
    size: Annotated[
        int, Query(ge=1, le=batches.MAX_REJECTS_PAGE, description="每页被拒行（与提示）数")
    ] = batches.MAX_REJECTS_PAGE,
) -> dict[str, Any]:
    with api(request) as ctx:
        batch = batches.batch_for(
            ctx.conn, ctx.principal, batch_id, offset=(page - 1) * size, limit=size
        )
        out = _plain(batch)
        out["page"], out["size"] = page, size
        out["rejects"] = batch["rejects"]
        out["warning_list"] = batch["warning_list"]
        return out


@router.get("/batches/{batch_id}/rejects", summary="下载一个批次的被拒记录文件（原格式加错误原因）")
def get_rejects(request: Request, batch_id: RowId) -> Response:
    with api(request) as ctx:
        batch = batches.batch_owned(ctx.conn, ctx.principal, batch_id)
        return rejects_response(ctx, batch)


def rejects_response(ctx: Any, batch: dict[str, Any]) -> Response:
    fmt = batch["file_format"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"rejects.{fmt}"
        batches.export_rejects(ctx.conn, ctx.catalog, batch["id"], path)
        body = path.read_bytes()
    name = f"batch-{batch['id']}-rejects.{fmt}"
    return Response(
        body,
        media_type=MEDIA.get(fmt, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_HIDDEN = {"rejects", "reject_rows", "warning_list", "headers", "columns", "mapping"}


def _plain(batch: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in batch.items() if k not in _HIDDEN}
    for k in ("received_at", "finished_at"):
        if out.get(k) is not None:
            out[k] = out[k].isoformat()
    return out
