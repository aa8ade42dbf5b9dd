"""Issuing and verifying credit reports: a stored, hashed snapshot behind every report number.

A report number (报告编号, ``numbers.py``) is read aloud and typed back from paper, and
unguessable, so that a number is as good as holding the report. Verification recomputes the
SHA-256 of the stored snapshot text and compares it with the hash stored beside it (and printed
on the PDF): a changed snapshot no longer matches. The SHA-256 of the PDF file as issued is
stored too, so that a file can be checked byte for byte (``files.py``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select

from xinyong import clock
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.queries import record_read
from xinyong.catalog.loader import Catalog
from xinyong.clock import aware
from xinyong.errors import NotFound
from xinyong.reports import numbers
from xinyong.reports.content import ReportKind, build_content, canonical_json
from xinyong.reports.models import credit_reports

# Both formats of report numbers (numbers.py): the current one and the first.
REPORT_NO = numbers.NUMBER
OLD_REPORT_NO = numbers.OLD_NUMBER


class Status(StrEnum):
    GENUINE = "genuine"  # the stored snapshot still has the hash it was issued with
    ALTERED = "altered"  # it does not: the stored content was changed after issue

    @property
    def label(self) -> str:
        return "报告真实有效，内容未被篡改" if self is Status.GENUINE else "报告内容与签发时不一致"


@dataclass(frozen=True)
class IssuedReport:
    report_no: str
    subject_id: int
    kind: ReportKind
    snapshot: str  # the canonical JSON text, exactly as hashed
    sha256: str
    snapshot_at: datetime
    issued_at: datetime
    issued_to: str
    issued_role: str
    # the PDF as issued and its SHA-256 (None for reports issued before files were hashed)
    pdf: bytes | None = None
    pdf_sha256: str | None = None

    @property
    def grouped_no(self) -> str:
        return numbers.grouped(self.report_no)

    @property
    def content(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.snapshot)
        return parsed


@dataclass(frozen=True)
class Verification:
    report_no: str
    status: Status
    stored_sha256: str
    computed_sha256: str
    kind: ReportKind
    snapshot_at: datetime
    issued_at: datetime
    # what the report contained; only when genuine: an altered snapshot is not the report
    content: dict[str, Any] | None

    @property
    def genuine(self) -> bool:
        return self.status is Status.GENUINE

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_no": self.report_no,
            "status": self.status.value,
            "status_label": self.status.label,
            "genuine": self.genuine,
            "stored_sha256": self.stored_sha256,
            "computed_sha256": self.computed_sha256,
            "kind": self.kind.value,
            "snapshot_at": self.snapshot_at.isoformat(),
            "issued_at": self.issued_at.isoformat(),
            "content": self.content,
        }


def sha256_of(snapshot: str) -> str:
    return hashlib.sha256(snapshot.encode("utf-8")).hexdigest()


def new_report_no(now: datetime) -> str:
    return numbers.new_number(now)


def normalise_report_no(value: str) -> str:
    """A report number as typed or scanned (spaces, hyphens, lower case) in its stored form;
    anything else is refused before it reaches the database."""
    return numbers.normalise(value)


def issue_report(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    *,
    kind: ReportKind | str,
    render: Callable[[IssuedReport], bytes] | None = None,
    evaluations: list[dict[str, Any]] | None = None,
) -> IssuedReport:
    """Build the report's content as of now, store it with its hash, and record the issue in
    the audit log; in the caller's transaction.

    ``render``: makes the report's file (``pdf.render_report``); the file is then returned
    with the report and its SHA-256 stored, so that the file itself can be verified later.
    ``evaluations``: the subject's evaluation results explained to itself, for a self report
    (``build_content``)."""
    kind = ReportKind(kind)
    # to the second: what the report prints is what is stored
    now = clock.now(conn).replace(microsecond=0)  # the injected clock: the day it answers for
    report_no = new_report_no(now)
    content = build_content(
        conn,
        catalog,
        principal,
        subject_id,
        kind=kind,
        report_no=report_no,
        snapshot_at=now,
        evaluations=evaluations,
    )
    snapshot = canonical_json(content)
    digest = sha256_of(snapshot)
    stored_subject = int(content["subject"]["id"])  # a merged subject's survivor
    issued = IssuedReport(
        report_no=report_no,
        subject_id=stored_subject,
        kind=kind,
        snapshot=snapshot,
        sha256=digest,
        snapshot_at=now,
        issued_at=now,
        issued_to=principal.name,
        issued_role=principal.role.value,
    )
    if render is not None:
        # rendered before the row is written: a report is stored only when its file was made
        pdf = render(issued)
        issued = replace(issued, pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest())
    conn.execute(
        insert(credit_reports).values(
            report_no=report_no,
            subject_id=stored_subject,
            kind=kind.value,
            snapshot=snapshot,
            sha256=digest,
            snapshot_at=now,
            issued_at=now,
            issued_to=principal.name,
            issued_role=principal.role.value,
            pdf_sha256=issued.pdf_sha256,
        )
    )
    # the convention of xinyong.audit.queries: ``detail.kind`` counts a subject's own reports
    # against its free ones (Henan art. 40)
    record_read(
        conn,
        principal,
        stored_subject,
        what="report.issue",
        kind=kind.value,
        detail={"report_no": report_no, "sha256": digest},
    )
    return issued


def get_report(conn: Connection, report_no: str) -> IssuedReport:
    """The stored report of ``report_no``, e.g. to render its PDF again."""
    number = normalise_report_no(report_no)
    row = conn.execute(select(credit_reports).where(credit_reports.c.report_no == number)).first()
    if row is None:
        raise NotFound("REPORT_NOT_FOUND", f"没有编号为 {number} 的信用报告")
    snapshot_at = aware(row.snapshot_at)
    issued_at = aware(row.issued_at)
    assert snapshot_at is not None and issued_at is not None
    return IssuedReport(
        report_no=row.report_no,
        subject_id=row.subject_id,
        kind=ReportKind(row.kind),
        snapshot=row.snapshot,
        sha256=row.sha256,
        snapshot_at=snapshot_at.astimezone(UTC),
        issued_at=issued_at.astimezone(UTC),
        issued_to=row.issued_to,
        issued_role=row.issued_role,
        pdf_sha256=row.pdf_sha256,
    )


def verify_report(
    conn: Connection, report_no: str, viewer: Principal | None = None
) -> Verification:
    """Whether the stored report of ``report_no`` is still what was issued.

    With ``viewer``, a self report's (本人版) content is shown only to the subject itself:
    it holds non-public records and the query history, and a report number travels (it is
    printed in a QR code on paper). Anyone else learns whether it is genuine, when it was
    made and whose it is.
    """
    report = get_report(conn, report_no)
    computed = sha256_of(report.snapshot)
    content: dict[str, Any] | None = None
    if secrets.compare_digest(computed, report.sha256):
        content = report.content
        # a snapshot moved under another number together with its hash is not that report
        if content.get("report_no") != report.report_no:
            content = None
    status = Status.GENUINE if content is not None else Status.ALTERED
    own = (
        viewer is not None
        and viewer.role is Role.SUBJECT
        and viewer.subject_id == report.subject_id
    )
    if content is not None and report.kind is ReportKind.SELF and viewer is not None and not own:
        content = {
            "report_no": content.get("report_no"),
            "subject": {"name": content.get("subject", {}).get("name")},
            "withheld": "本人版报告的内容仅信用主体本人登录后可见",
        }
    return Verification(
        report_no=report.report_no,
        status=status,
        stored_sha256=report.sha256,
        computed_sha256=computed,
        kind=report.kind,
        snapshot_at=report.snapshot_at,
        issued_at=report.issued_at,
        content=content,
    )
