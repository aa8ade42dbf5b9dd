"""A department clerk's delivery pages (部门报送): upload a file and read its receipt with
every rejected row, download the rejects file, find past batches. Operators see every
department's and deliver for any department."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.datastructures import UploadFile

from xinyong.accounts.roles import Role
from xinyong.batches import service as batches
from xinyong.catalog.loader import Catalog
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.ingest.delivery import deliver, received_file
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
    token = form.get("csrf_token")
    dataset = form.get("dataset")
    dept = form.get("dept")
    upload = form.get("file")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        principal = require_login(ctx, *DELIVERING)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise XinyongError("FILE_REQUIRED", "请选择要报送的文件")
        if not isinstance(dataset, str) or not dataset:
            raise XinyongError("DATASET_REQUIRED", "请选择数据集")
    name = Path(upload.filename).name[:200]
    try:
        with (
            page(request, write=True) as ctx,
            received_file(
                ctx.settings.data_dir, upload.file, name, max_bytes=ctx.settings.max_delivery_bytes
            ) as path,
        ):
            receipt = deliver(
                ctx.conn,
                ctx.catalog,
                principal,
                path=path,
                dataset=dataset,
                file_name=name,
                channel="web",
                dept_uscc=dept if isinstance(dept, str) and dept else None,
                chunk_rows=ctx.settings.ingest_chunk_rows,
            )
    except Exception as exc:  # refused (a domain error) or failed (500): audited either way
        audit_refused_delivery(request, exc, {"file": name, "dataset": dataset, "channel": "web"})
        raise
    return RedirectResponse(f"/dept/batches/{receipt.batch_id}", status_code=303)


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
