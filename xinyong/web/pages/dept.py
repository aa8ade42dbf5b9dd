"""A department clerk's delivery pages (部门报送): upload a file and read its receipt with
every rejected row, download the rejects file, find past batches. Operators see every
department's and deliver for any department."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from xinyong.accounts.roles import Role
from xinyong.batches import service as batches
from xinyong.catalog.loader import Catalog
from xinyong.db import is_busy
from xinyong.departments import service as departments
from xinyong.errors import Busy, XinyongError
from xinyong.ingest import queue
from xinyong.ingest.delivery import received_file
from xinyong.web.api.batches import audit_refused_delivery, rejects_response
from xinyong.web.deps import RowId, check_csrf, page, require_login
from xinyong.web.render import render

router = APIRouter()

DELIVERING = (Role.CLERK, Role.OPERATOR)


def _datasets(
    conn: Connection, catalog: Catalog, principal_dept: str | None
) -> list[tuple[str, str]]:
    """The datasets the department may deliver (all, for an operator)."""
    if principal_dept:
        dept = departments.find(conn, principal_dept)
        codes = dept.datasets if dept else ()
    else:
        codes = tuple(catalog.datasets)
    return [(c, catalog.datasets[c].name) for c in codes if c in catalog.datasets]


@router.get("/dept")
def dept_home(request: Request, page_no: int = 1) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
        page_no = max(1, min(page_no, 100_000))
        items = batches.batches_for(ctx.conn, principal, limit=20, offset=(page_no - 1) * 20)
        return render(
            request,
            "dept.html",
            {
                "batches": items,
                "datasets": _datasets(ctx.conn, ctx.catalog, principal.dept_uscc),
                "departments": sorted(
                    departments.all_departments(ctx.conn, enabled_only=True).values(),
                    key=lambda d: d.name,
                ),
                "page_no": page_no,
                "can_deliver": principal.role in DELIVERING,
            },
        )


@router.post("/dept/batches")
async def upload(request: Request) -> Response:
    form = await request.form()
    # The database work runs on a worker thread: a writer waiting for SQLite's lock must not
    # hold up the event loop (and with it every public read).
    return await run_in_threadpool(_queue_upload, request, form)


def _queue_upload(request: Request, form: FormData) -> Response:
    token = form.get("csrf_token")
    dataset = form.get("dataset")
    dept = form.get("dept")
    upload = form.get("file")
    name = ""
    try:
        # Queued, not ingested here: the clerk's page follows the job (queued, running, then
        # the receipt) and the request ends at once (issue 11: deliveries never stall).
        with page(request, write=True) as ctx:
            check_csrf(ctx, token if isinstance(token, str) else None)
            principal = require_login(ctx, *DELIVERING)
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise XinyongError("FILE_REQUIRED", "请选择要报送的文件")
            if not isinstance(dataset, str) or not dataset:
                raise XinyongError("DATASET_REQUIRED", "请选择数据集")
            name = Path(upload.filename).name[:200]
            with received_file(
                ctx.settings.data_dir, upload.file, name, max_bytes=ctx.settings.max_delivery_bytes
            ) as path:
                job_id = queue.enqueue(
                    ctx.conn,
                    principal,
                    path=path,
                    dataset=dataset,
                    file_name=name,
                    channel="web",
                    dept_uscc=dept if isinstance(dept, str) and dept else None,
                )
    except XinyongError as exc:
        if name and not isinstance(exc, Busy):
            detail = {"file": name, "dataset": dataset, "channel": "web"}
            audit_refused_delivery(request, exc, detail)
        raise
    except Exception as exc:  # failed (500): audited too
        if name and not is_busy(exc):
            detail = {"file": name, "dataset": dataset, "channel": "web"}
            audit_refused_delivery(request, exc, detail)
        raise
    request.app.state.worker.wake()
    return RedirectResponse(f"/dept/deliveries/{job_id}", status_code=303)


@router.get("/dept/deliveries/{job_id}")
def delivery_page(request: Request, job_id: RowId) -> Response:
    """A delivery's progress; the receipt once it is done. Lock-free: it answers while the
    delivery holds SQLite's one writer."""
    with page(request, lock_free=True) as ctx:
        principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
        job = queue.job_for(ctx.conn, principal, job_id)
    if job["state"] == "done":
        return RedirectResponse(f"/dept/batches/{job['batch_id']}", status_code=303)
    rows = request.app.state.worker.progress.get(job_id)
    return render(request, "delivery_job.html", {"job": job, "rows": rows})


@router.get("/dept/batches/{batch_id}")
def batch_page(
    request: Request,
    batch_id: RowId,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    size = batches.MAX_REJECTS_PAGE
    with page(request) as ctx:
        principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
        batch = batches.batch_for(
            ctx.conn, principal, batch_id, offset=(page_no - 1) * size, limit=size
        )
        dataset = ctx.catalog.datasets.get(batch["dataset"])
        names = {i.code: i.name for i in dataset.items} if dataset else {}
        pages = max(1, -(-max(batch["rejected"], batch["warnings"]) // size))
        return render(
            request,
            "batch.html",
            {"batch": batch, "item_names": names, "page_no": page_no, "pages": pages},
        )


@router.get("/dept/batches/{batch_id}/rejects")
def batch_rejects(request: Request, batch_id: RowId) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
        batch = batches.batch_owned(ctx.conn, principal, batch_id)
        return rejects_response(ctx, batch)
