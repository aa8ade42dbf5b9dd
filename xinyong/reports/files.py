"""Verifying a report file (报告文件核验): is this PDF, byte for byte, the one the platform issued?

The file names its report number in its metadata (``pdf.py``); a number typed or scanned from
the paper is used when given. The file's SHA-256 is compared with the one stored when the
report was issued; a report issued before files were hashed is rendered again from its stored
snapshot (rendering is deterministic) and compared with that. The stored snapshot is verified
as well (``service.verify_report``): a file can only be as good as the record behind it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection

from xinyong.accounts.roles import Principal
from xinyong.errors import XinyongError
from xinyong.reports import numbers
from xinyong.reports.pdf import render_report
from xinyong.reports.service import Verification, get_report, verify_report
from xinyong.settings import Settings

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class FileVerification:
    identical: bool  # the file is byte for byte the report issued under its number
    file_sha256: str
    issued_sha256: str  # the SHA-256 of the file as issued
    size: int
    report: Verification  # the stored report behind the number

    @property
    def genuine(self) -> bool:
        return self.identical and self.report.genuine


def verify_file(
    conn: Connection,
    data: bytes,
    settings: Settings,
    *,
    report_no: str | None = None,
    viewer: Principal | None = None,
) -> FileVerification:
    """Whether ``data`` is the report file issued under its number (or ``report_no``)."""
    if not data.startswith(PDF_MAGIC):
        raise XinyongError(
            "REPORT_FILE_NOT_PDF", "上传的文件不是 PDF：请上传平台签发的信用报告 PDF 原件"
        )
    number = numbers.normalise(report_no) if report_no and report_no.strip() else None
    if number is None:
        number = numbers.found_in(data)
    if number is None:
        raise XinyongError(
            "REPORT_FILE_NO_NUMBER",
            "无法从文件中读出报告编号：该文件可能不是本平台签发的原件，或已被另存、打印后扫描；"
            "请同时输入报告上的报告编号再核验",
        )
    report = verify_report(conn, number, viewer)
    stored = get_report(conn, number)
    issued = stored.pdf_sha256 or hashlib.sha256(render_report(stored, settings)).hexdigest()
    digest = hashlib.sha256(data).hexdigest()
    return FileVerification(
        identical=secrets.compare_digest(digest, issued),
        file_sha256=digest,
        issued_sha256=issued,
        size=len(data),
        report=report,
    )
