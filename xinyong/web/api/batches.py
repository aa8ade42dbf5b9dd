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
from xinyong.accounts.roles import Role
from xinyong.audit import service as audit
from xinyong.batches import service as batches
from xinyong.db import is_busy
from xinyong.errors import Busy, XinyongError
from xinyong.ingest import queue
from xinyong.ingest.delivery import received_file
from xinyong.web.api import answers as out
from xinyong.web.api.contract import token, writes
from xinyong.web.deps import DEPT_CODE, RowId, api

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


@router.post(
    "/batches",
    summary="报送一个文件（CSV、XLSX 或 JSON Lines）：受理后在后台入库，轮询任务取得回执",
    **token(*writes(400, 404, 422)),
    status_code=202,
    response_model=out.DeliveryAccepted,
)
def create_batch(
    request: Request,
    response: Response,
    dataset: Annotated[str, Form(min_length=1, max_length=32, description="数据集代码或名称")],
    file: Annotated[UploadFile, File(description="报送文件")],
    # a form field is text: absent is empty, not null (a client cannot send a null part)
    dept: Annotated[
        str,
        Form(
            pattern=f"^(?:{DEPT_CODE[1:]})?$",
            max_length=18,
            description="部门统一社会信用代码（仅平台管理员需要；不填为本部门）",
        ),
    ] = "",
) -> dict[str, Any]:
    """The file is stored and queued at once (202, a job id): a large delivery never holds a
    request open, and the portal's readers are never blocked by it. Poll
    ``GET /api/v1/deliveries/{job_id}``: when ``state`` is ``done`` it names the ``batch_id``
    whose receipt ``GET /api/v1/batches/{batch_id}`` gives; ``failed`` carries the reason."""
    name = Path(file.filename or "upload").name[:200]
    detail = {"file": name, "dataset": dataset, "channel": "api"}
    dept_uscc = dept or None
    try:
        with api(request, write=True) as ctx:
            # who may deliver, decided before the upload touches storage
            acting_department(ctx.principal, dept_uscc)
            ctx.catalog.dataset(dataset)  # an unknown dataset is refused now, not by the job
            with received_file(
                ctx.settings.data_dir, file.file, name, max_bytes=ctx.settings.max_delivery_bytes
            ) as path:
                job_id = queue.enqueue(
                    ctx.conn,
                    ctx.principal,
                    path=path,
                    dataset=dataset,
                    file_name=name,
                    channel="api",
                    dept_uscc=dept_uscc,
                )
    except XinyongError as exc:
        if not exc.code.startswith(("TOKEN_", "ROLE_")) and not isinstance(exc, Busy):
            audit_refused_delivery(request, exc, detail)
        raise
    except Exception as exc:
        if not is_busy(exc):  # a busy database is "try again", not a failed delivery
            audit_refused_delivery(request, exc, detail)
        raise
    request.app.state.worker.wake()
    url = f"{request.scope.get('root_path', '')}/api/v1/deliveries/{job_id}"
    response.headers["Location"] = url
    return {"job_id": job_id, "state": "queued", "status_url": url}


@router.get(
    "/deliveries/{job_id}",
    summary="一个报送任务的状态：排队中、入库中、已完成（批次号）或失败（原因）",
    **token(404),
    response_model=out.DeliveryJob,
)
def get_delivery(request: Request, job_id: RowId) -> dict[str, Any]:
    # Lock-free: polling answers at once even while a delivery holds SQLite's one writer.
    with api(request, lock_free=True) as ctx:
        if ctx.principal.role is Role.PUBLIC:
            raise XinyongError("TOKEN_INVALID", "请提供部门系统的接口令牌")
        job = queue.job_for(ctx.conn, ctx.principal, job_id)
    if job["state"] == "running":
        job["rows_done"] = request.app.state.worker.progress.get(job_id)
    return job


@router.get("/batches", summary="本部门的报送批次", **token(400), response_model=out.BatchPage)
def list_batches(
    request: Request,
    dataset: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    with api(request) as ctx:
        if dataset is not None:
            dataset = ctx.catalog.dataset(dataset).code  # an unknown one is refused, not empty
        items = batches.batches_for(
            ctx.conn, ctx.principal, dataset=dataset, limit=size, offset=(page - 1) * size
        )
        return {"page": page, "size": size, "items": [_plain(b) for b in items]}


@router.get(
    "/batches/{batch_id}",
    summary="一个批次的回执：计数与被拒记录、提示（分页）",
    **token(404),
    response_model=out.Receipt,
)
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


@router.get(
    "/batches/{batch_id}/rejects",
    summary="下载一个批次的被拒记录文件（原格式加错误原因）",
    **token(404, files=tuple(MEDIA.values())),
    response_class=Response,
)
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
