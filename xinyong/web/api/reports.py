"""Credit reports (公共信用信息报告) over the API: issue a public report, verify a report number,
download the PDF rendered again from the stored snapshot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from xinyong import clock
from xinyong.codes import check_code
from xinyong.errors import Conflict, NotAllowed, XinyongError
from xinyong.reports.content import ReportKind
from xinyong.reports.pdf import render_report, report_disposition, verify_url
from xinyong.reports.service import get_report, verify_report
from xinyong.web.api import answers as out
from xinyong.web.api.contract import public, writes
from xinyong.web.api.naming import (
    SubjectId,
    subject_code_field,
    subject_id_field,
    subject_named,
)
from xinyong.web.api.public import limit
from xinyong.web.deps import Ctx, api
from xinyong.web.report_files import issue_with_file

router = APIRouter(tags=["信用报告"])


# The number as typed or read from paper; its form is checked by the service (400
# REPORT_NO_INVALID), which accepts the current grouped numbers and the older ones alike.
ReportNo = Annotated[str, Path(min_length=1, max_length=64, description="报告编号")]


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_code: str | None = subject_code_field(
        "法人或非法人组织的任一代码：统一社会信用代码、组织机构代码或工商注册号"
    )
    subject_id: SubjectId | None = subject_id_field()


def _is_id_number(ctx: Ctx, code: str | None) -> bool:
    text = (code or "").strip()
    return len(text) == 18 and check_code(text, clock.today(ctx.conn)).kind == "id_number"


def _links(request: Request, report_no: str) -> dict[str, str]:
    settings = request.app.state.settings
    return {
        "verify": verify_url(settings, report_no),
        "pdf": f"/api/v1/reports/{report_no}.pdf",
        "verification": f"/api/v1/reports/{report_no}",
    }


@router.post(
    "/reports",
    status_code=201,
    summary="出具法人和非法人组织的公共信用信息报告（公开版）",
    **public(*writes(400, 403, 404, 409, 429)),
    response_model=out.ReportIssued,
)
def issue(request: Request, body: ReportRequest) -> dict[str, Any]:
    limit(request, "report")
    with api(request, write=True) as ctx:
        # a person's ID number is refused before any lookup: the public must not learn whether
        # someone is stored (the public report is for organisations only)
        if _is_id_number(ctx, body.subject_code):
            raise XinyongError(
                "REPORT_ORGANISATIONS_ONLY", "公开版信用报告只出具给法人和非法人组织"
            )
        subject_id = subject_named(ctx.conn, body.subject_code, body.subject_id)
        report = issue_with_file(ctx, subject_id, ReportKind.PUBLIC)
        return {
            "report_no": report.report_no,
            "subject_id": report.subject_id,
            "kind": report.kind.value,
            "sha256": report.sha256,
            "snapshot_at": report.snapshot_at.isoformat(),
            "links": _links(request, report.report_no),
        }


# Declared before the verification route: ``{report_no}`` alone would also match "….pdf".
@router.get(
    "/reports/{report_no}.pdf",
    summary="按所存快照重新生成信用报告 PDF",
    **public(400, 403, 404, 409, files=("application/pdf",)),
    response_class=Response,
)
def pdf(request: Request, report_no: ReportNo) -> Response:
    with api(request) as ctx:
        checked = verify_report(ctx.conn, report_no, ctx.principal)
        if not checked.genuine:
            # an altered snapshot is not the report that was issued: never render it as one
            raise Conflict("REPORT_ALTERED", "该报告的存档内容与签发时不一致，不能生成 PDF")
        if checked.content is not None and "withheld" in checked.content:
            raise NotAllowed("REPORT_SELF_ONLY", "本人版信用报告仅信用主体本人可以下载")
        report = get_report(ctx.conn, report_no)
        data = render_report(report, ctx.settings)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": report_disposition(report)},
    )


@router.get(
    "/reports/{report_no}",
    summary="核验信用报告：是否真实、生成时间、报告内容",
    **public(400, 404),
    response_model=out.ReportVerification,
)
def verification(request: Request, report_no: ReportNo) -> dict[str, Any]:
    with api(request) as ctx:
        result = verify_report(ctx.conn, report_no, ctx.principal)
        return {**result.as_dict(), "links": _links(request, result.report_no)}
