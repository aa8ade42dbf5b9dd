"""Credit repair pages (信用修复): the subject reads its credit commitment (信用承诺书, generated
from its data), signs it by name, describes the correction and uploads proof; the answer is the
case page with the follow code, shown once. Deciding is on the staff case page
(``pages.cases``, action ``decide``), which hands repair cases here."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from xinyong.cases import files as case_files
from xinyong.cases import repair
from xinyong.errors import XinyongError
from xinyong.records.service import get_record
from xinyong.web.casework import (
    audited_refusal,
    case_calendar,
    case_view,
    form_text,
    own_subject,
    read_form,
)
from xinyong.web.deps import check_csrf, page
from xinyong.web.render import render

router = APIRouter()


@router.get("/me/repair/new")
def repair_form(request: Request, record: int = Query(ge=1, le=2**63 - 1)) -> Response:
    with page(request) as ctx:
        own_subject(ctx)
        with audited_refusal(request, ""):
            elig = repair.record_eligibility(ctx.conn, ctx.catalog, ctx.principal, record)
        rec = get_record(ctx.conn, record)
        text = repair.commitment_text(ctx.conn, record)
        dataset = ctx.catalog.datasets.get(rec["dataset"])
        return render(
            request,
            "repair_new.html",
            {
                "record": rec,
                "dataset_name": dataset.name if dataset else rec["dataset"],
                "eligibility": elig,
                "commitment": text,
                "commitment_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "max_files": case_files.MAX_FILES,
                "max_mb": case_files.MAX_FILE_BYTES // (1024 * 1024),
            },
        )


@router.post("/me/repair")
async def apply(request: Request) -> Response:
    form, token = await read_form(request)
    uploads = []
    for item in form.getlist("proof"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(case_files.MAX_FILE_BYTES + 1)
            uploads.append(case_files.Upload(item.filename[:200], data))
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        own_subject(ctx)
        try:
            record_id = int(form_text(form, "record_id"))
        except ValueError:
            raise XinyongError("RECORD_NOT_FOUND", "没有指定申请修复的记录") from None
        if form_text(form, "agree") != "yes":
            raise XinyongError("REPAIR_COMMITMENT_REQUIRED", "请阅读并同意信用承诺书")
        with audited_refusal(request, ""):
            found, code = repair.apply(
                ctx.conn,
                ctx.principal,
                ctx.catalog,
                case_calendar(ctx),
                record_id,
                correction=form_text(form, "correction"),
                signed_by=form_text(form, "signed_by"),
                commitment_sha256=form_text(form, "commitment_sha256") or None,
                uploads=uploads,
                data_dir=ctx.settings.data_dir,
            )
        view = case_view(ctx, found, staff=False)
        return render(request, "case.html", {**view, "follow_code": code}, status_code=201)
