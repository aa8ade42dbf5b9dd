"""A department clerk's delivery pages (部门报送): upload a file and read its receipt with
every rejected row, download the rejects file, find past batches. Operators see every
department's and deliver for any department."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from xinyong.accounts.roles import Role
from xinyong.batches import service as batches
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset
from xinyong.catalog.templates import GUIDE_COLUMNS, guide_rows, write_template
from xinyong.db import is_busy
from xinyong.departments import service as departments
from xinyong.errors import Busy, NotAllowed, NotFound, XinyongError
from xinyong.ingest import queue
from xinyong.ingest.delivery import deliver, received_file
from xinyong.records import service as records
from xinyong.web.api.batches import audit_refused_delivery, rejects_response
from xinyong.web.casework import form_text, read_form
from xinyong.web.deps import Ctx, RowId, check_csrf, page, require_login
from xinyong.web.errors import status_of
from xinyong.web.pages.operator import attempt, filter_day, known_choice, page_no, pager
from xinyong.web.render import render

router = APIRouter()

DELIVERING = (Role.CLERK, Role.OPERATOR)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _deliverable(ctx: Ctx, code: str) -> Dataset:
    """A dataset the logged-in clerk's department may deliver (any, for an operator)."""
    principal = require_login(ctx, *DELIVERING)
    if code not in dict(_datasets(ctx.conn, ctx.catalog, principal.dept_uscc)):
        raise NotFound("DATASET_NOT_DELIVERABLE", f"本部门没有可报送的数据集“{code[:40]}”")
    return ctx.catalog.datasets[code]


def _attachment(body: bytes, media_type: str, name: str) -> Response:
    # RFC 5987: the Chinese file name for browsers, an ASCII one for everything else.
    ascii_name = name.encode("ascii", "ignore").decode() or "download"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/dept/datasets/{code}/template.xlsx")
def dataset_template(request: Request, code: str) -> Response:
    """The upload template (报送模板) the CLI's ``catalog template`` writes, in the browser."""
    with page(request) as ctx:
        dataset = _deliverable(ctx, code)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.xlsx"
        write_template(dataset, "xlsx", path)
        body = path.read_bytes()
    return _attachment(body, XLSX, f"{dataset.code}_{dataset.name}_报送模板.xlsx")


@router.get("/dept/datasets/{code}/dictionary.csv")
def dataset_dictionary(request: Request, code: str) -> Response:
    """The data dictionary (数据字典): the template's 填写说明 rows, one per item."""
    with page(request) as ctx:
        dataset = _deliverable(ctx, code)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GUIDE_COLUMNS)
    writer.writerows(guide_rows(dataset))
    # utf-8-sig: the BOM that makes Excel open a UTF-8 CSV file correctly
    body = out.getvalue().encode("utf-8-sig")
    return _attachment(
        body, "text/csv; charset=utf-8", f"{dataset.code}_{dataset.name}_数据字典.csv"
    )


DESK_PAGE = 20


@router.get("/dept")
def dept_home(request: Request) -> Response:
    with page(request) as ctx:
        return _desk(ctx)


def _desk(ctx: Ctx, *, error: XinyongError | None = None) -> Response:
    """The clerk's desk: the upload form (a refused file comes back on it with the reason),
    the templates, and the department's batches with filters."""
    principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
    q = ctx.request.query_params
    choices = [(code, ds.name) for code, ds in ctx.catalog.datasets.items()]
    filters = {
        "dataset": known_choice((q.get("dataset") or "").strip()[:32], choices, "数据集"),
        "state": known_choice((q.get("state") or "").strip()[:16], batches.BATCH_STATES, "状态"),
        "since": (q.get("since") or "").strip()[:10],
        "until": (q.get("until") or "").strip()[:10],
    }
    where = batches.BatchFilter(
        dataset=filters["dataset"] or None,
        state=filters["state"] or None,
        since=filter_day(q, "since"),
        until=filter_day(q, "until"),
    )
    number = page_no(q)
    items, total = batches.search_batches(
        ctx.conn, principal, where, limit=DESK_PAGE, offset=(number - 1) * DESK_PAGE
    )
    dept = departments.find(ctx.conn, principal.dept_uscc) if principal.dept_uscc else None
    return render(
        ctx.request,
        "dept.html",
        {
            "dept": dept,
            "batches": items,
            "datasets": _datasets(ctx.conn, ctx.catalog, principal.dept_uscc),
            "dataset_names": dict(choices),
            "states": batches.BATCH_STATES,
            "filters": filters,
            "pager": pager("/dept", filters, number, total, DESK_PAGE),
            "departments": sorted(
                departments.all_departments(ctx.conn, enabled_only=True).values(),
                key=lambda d: d.name,
            ),
            "can_deliver": principal.role in DELIVERING,
            "error": error,
        },
        status_code=status_of(error) if error else 200,
    )


@router.post("/dept/batches")
async def upload(request: Request) -> Response:
    form = await request.form()
    # The database work runs on a worker thread: a writer waiting for SQLite's lock must not
    # hold up the event loop (and with it every public read).
    return await run_in_threadpool(_queue_upload, request, form)


def _queue_upload(request: Request, form: FormData) -> Response:
    if form.get("dry_run"):
        return _dry_run(request, form)
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
            upload, dataset = _upload_fields(upload, dataset)
            name = Path(upload.filename or "").name[:200]
            ctx.catalog.dataset(dataset)  # an unknown dataset is refused now, as on the API
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
        if isinstance(exc, Busy | NotAllowed):
            raise  # 503 with Retry-After; a refusal of the person, not of the file
        # a refused file comes back on the form that sent it, with the reason
        with page(request) as ctx:
            return _desk(ctx, error=exc)
    except Exception as exc:  # failed (500): audited too
        if name and not is_busy(exc):
            detail = {"file": name, "dataset": dataset, "channel": "web"}
            audit_refused_delivery(request, exc, detail)
        raise
    request.app.state.worker.wake()
    return RedirectResponse(f"/dept/deliveries/{job_id}", status_code=303)


def _upload_fields(upload: object, dataset: object) -> tuple[UploadFile, str]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise XinyongError("FILE_REQUIRED", "请选择要报送的文件")
    if not isinstance(dataset, str) or not dataset:
        raise XinyongError("DATASET_REQUIRED", "请选择数据集")
    return upload, dataset


# A dry run shows at most this many problems; the counts are always complete.
DRY_RUN_SHOWN = 200


def _dry_run(request: Request, form: FormData) -> Response:
    """试算: the whole delivery checked as it would be ingested, inside a savepoint that is
    rolled back (like ``xinyong ingest --dry-run``): no batch, no records, no audit event, and
    the upload lands in a temporary folder removed at once, not in the evidence store."""
    token = form.get("csrf_token")
    dept = form.get("dept")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        principal = require_login(ctx, *DELIVERING)
        upload, dataset = _upload_fields(form.get("file"), form.get("dataset"))
        name = Path(upload.filename or "").name[:200]
        max_bytes = ctx.settings.max_delivery_bytes
        with (
            tempfile.TemporaryDirectory(prefix="xinyong-dry-run-") as tmp,
            received_file(Path(tmp), upload.file, name, max_bytes=max_bytes) as path,
        ):
            savepoint = ctx.conn.begin_nested()
            try:
                receipt = deliver(
                    ctx.conn,
                    ctx.catalog,
                    principal,
                    path=path,
                    dataset=dataset,
                    file_name=name,
                    channel="web",
                    dept_uscc=dept if isinstance(dept, str) and dept else None,
                )
            finally:
                savepoint.rollback()
        definition = ctx.catalog.datasets.get(receipt.dataset)
        return render(
            request,
            "dry_run.html",
            {
                "receipt": receipt,
                "file_name": name,
                "dataset_name": definition.name if definition else receipt.dataset,
                "item_names": {i.code: i.name for i in definition.items} if definition else {},
                "shown": DRY_RUN_SHOWN,
            },
        )


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


# pending records listed on a receipt: a clerk links them from there, a page at a time
PENDING_ON_RECEIPT = 50


@router.get("/dept/batches/{batch_id}")
def batch_page(
    request: Request,
    batch_id: RowId,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    with page(request) as ctx:
        return _receipt(ctx, batch_id, page_no)


def _receipt(
    ctx: Ctx,
    batch_id: int,
    page_no: int = 1,
    *,
    error: XinyongError | None = None,
    failed: int | None = None,
    code: str = "",
) -> Response:
    """The receipt, with the rows waiting for a subject (待关联) and, for the delivering
    department, a form to link each (the same service as /admin/pending and the CLI)."""
    size = batches.MAX_REJECTS_PAGE
    principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
    batch = batches.batch_for(
        ctx.conn, principal, batch_id, offset=(page_no - 1) * size, limit=size
    )
    dataset = ctx.catalog.datasets.get(batch["dataset"])
    names = {i.code: i.name for i in dataset.items} if dataset else {}
    pages = max(1, -(-max(batch["rejected"], batch["warnings"]) // size))
    found, waiting = records.pending_for(
        ctx.conn, principal, batch_id=batch_id, limit=PENDING_ON_RECEIPT
    )
    return render(
        ctx.request,
        "batch.html",
        {
            "batch": batch,
            "dataset_name": dataset.name if dataset else batch["dataset"],
            "item_names": names,
            "page_no": page_no,
            "pages": pages,
            "pending": records.pending_shown(ctx.conn, ctx.catalog, found),
            "waiting": waiting,
            "may_link": principal.role in DELIVERING,
            "linked": ctx.request.query_params.get("linked") or "",
            "error": error,
            "failed": failed,
            "code": code,
        },
        status_code=status_of(error) if error else 200,
    )


@router.post("/dept/batches/{batch_id}/pending/{record_id}/link")
async def link_pending(request: Request, batch_id: RowId, record_id: RowId) -> Response:
    form, token = await read_form(request)
    code = form_text(form, "code").strip()[:32]
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        principal = require_login(ctx, *DELIVERING)
        if not code:
            missing = XinyongError("CODE_REQUIRED", "请输入主体的统一社会信用代码或身份证号")
            return _receipt(ctx, batch_id, error=missing, failed=record_id)
        linked, error = attempt(
            ctx,
            lambda: records.link_pending_as(ctx.conn, ctx.catalog, principal, record_id, code),
        )
        if linked is None:
            return _receipt(ctx, batch_id, error=error, failed=record_id, code=code)
    return RedirectResponse(f"/dept/batches/{batch_id}?linked={record_id}#pending", 303)


@router.get("/dept/batches/{batch_id}/rejects")
def batch_rejects(request: Request, batch_id: RowId) -> Response:
    with page(request) as ctx:
        principal = require_login(ctx, *DELIVERING, Role.AUDITOR)
        batch = batches.batch_owned(ctx.conn, principal, batch_id)
        return rejects_response(ctx, batch)
