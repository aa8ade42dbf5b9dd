"""A credit report issued from a page or the API together with its PDF, and the download
response: the file's SHA-256 is stored with the report (``/verify`` checks files byte for
byte), and the file is saved under whose report it is and the day."""

from __future__ import annotations

from fastapi.responses import Response

from xinyong.evaluation import service as evaluation
from xinyong.reports.content import ReportKind
from xinyong.reports.pdf import render_report, report_disposition
from xinyong.reports.service import IssuedReport, issue_report
from xinyong.web.deps import Ctx


def issue_with_file(ctx: Ctx, subject_id: int, kind: ReportKind) -> IssuedReport:
    """The report issued in ``ctx``'s transaction, with its PDF rendered before it is stored;
    a self report with the subject's evaluation results explained (PIPL art. 24)."""
    explained = (
        evaluation.evaluations_of(ctx.conn, ctx.catalog, ctx.principal, subject_id)
        if kind is ReportKind.SELF
        else None
    )
    return issue_report(
        ctx.conn,
        ctx.catalog,
        ctx.principal,
        subject_id,
        kind=kind,
        render=lambda issued: render_report(issued, ctx.settings),
        evaluations=explained,
    )


def pdf_download(report: IssuedReport) -> Response:
    assert report.pdf is not None, "issued without its file"
    return Response(
        report.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": report_disposition(report),
            "X-Report-No": report.report_no,
            "Cache-Control": "no-store",
        },
    )
