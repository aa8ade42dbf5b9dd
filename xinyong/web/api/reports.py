"""Credit reports (公共信用信息报告) over the API: issue a public report, verify a report number,
download the PDF rendered again from the stored snapshot."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from xinyong.errors import Conflict, NotAllowed
from xinyong.reports.content import ReportKind
from xinyong.reports.pdf import render_report, report_disposition, verify_url
from xinyong.reports.service import get_report, verify_report
from xinyong.web.api.public import limit
from xinyong.web.deps import api
from xinyong.web.report_files import issue_with_file

router = APIRouter(tags=["信用报告"])


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: int = Field(ge=1, le=2**63 - 1, description="信用主体编号（法人和非法人组织）")


def _links(request: Request, report_no: str) -> dict[str, str]:
    settings = request.app.state.settings
    return {
        "verify": verify_url(settings, report_no),
        "pdf": f"/api/v1/reports/{report_no}.pdf",
        "verification": f"/api/v1/reports/{report_no}",
    }


@router.post(
    "/reports", status_code=201, summary="出具法人和非法人组织的公共信用信息报告（公开版）"
)
def issue(request: Request, body: ReportRequest) -> dict[str, Any]:
    limit(request, "report")
    with api(request, write=True) as ctx:
        report = issue_with_file(ctx, body.subject_id, ReportKind.PUBLIC)
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
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def pdf(request: Request, report_no: str) -> Response:
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


@router.get("/reports/{report_no}", summary="核验信用报告：是否真实、生成时间、报告内容")
def verification(request: Request, report_no: str) -> dict[str, Any]:
    with api(request) as ctx:
        result = verify_report(ctx.conn, report_no, ctx.principal)
        return {**result.as_dict(), "links": _links(request, result.report_no)}
