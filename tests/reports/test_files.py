"""Verifying a report file (报告文件核验): the PDF as issued is identical byte for byte, any change
to it is not, a file without a number needs one typed, a report issued before files were hashed
is checked against its file rendered again; the PDF's metadata name the report and its time."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, update

from reports.data import PUBLIC, Loaded
from xinyong.catalog.loader import Catalog
from xinyong.errors import XinyongError
from xinyong.reports.content import ReportKind
from xinyong.reports.files import verify_file
from xinyong.reports.models import credit_reports
from xinyong.reports.numbers import grouped
from xinyong.reports.pdf import render_report, report_filename
from xinyong.reports.service import IssuedReport, issue_report
from xinyong.settings import Settings


def _issue(engine: Engine, catalog: Catalog, settings: Settings, subject: int) -> IssuedReport:
    with engine.begin() as conn:
        return issue_report(
            conn,
            catalog,
            PUBLIC,
            subject,
            kind=ReportKind.PUBLIC,
            render=lambda issued: render_report(issued, settings),
        )


def test_the_file_as_issued_is_identical_and_a_changed_one_is_not(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings
) -> None:
    report = _issue(engine, catalog, settings, loaded.company_id)
    assert report.pdf is not None and report.pdf_sha256 is not None
    with engine.connect() as conn:
        same = verify_file(conn, report.pdf, settings)
        assert same.identical and same.genuine and same.report.report_no == report.report_no
        # one byte changed anywhere (here in the metadata, which no viewer shows)
        changed = report.pdf.replace(b"/Producer", b"/Producex", 1)
        other = verify_file(conn, changed, settings)
        assert not other.identical and not other.genuine
        assert other.report.genuine  # the stored report itself is fine: the file is not it
        # a number typed beside the file wins over the one the file names
        typed = verify_file(conn, report.pdf, settings, report_no=grouped(report.report_no))
        assert typed.identical


def test_a_file_without_a_number_or_not_a_pdf_is_refused(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings
) -> None:
    report = _issue(engine, catalog, settings, loaded.company_id)
    assert report.pdf is not None
    stripped = re.sub(rb"XY\d{6}[0-9A-Z]{12}", b"", report.pdf)
    with engine.connect() as conn:
        with pytest.raises(XinyongError) as refused:
            verify_file(conn, stripped, settings)
        assert refused.value.code == "REPORT_FILE_NO_NUMBER"
        # with the number typed from the paper it is checked, and it is not the issued file
        checked = verify_file(conn, stripped, settings, report_no=report.report_no)
        assert not checked.identical
        with pytest.raises(XinyongError) as not_pdf:
            verify_file(conn, b"\x89PNG\r\n", settings)
        assert not_pdf.value.code == "REPORT_FILE_NOT_PDF"


def test_a_report_issued_before_files_were_hashed_is_rendered_again(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings
) -> None:
    report = _issue(engine, catalog, settings, loaded.company_id)
    assert report.pdf is not None
    with engine.begin() as conn:
        # as migration 0022 leaves the reports issued before it (the table is append-only on
        # PostgreSQL for the application role; the test owns its schema)
        conn.execute(
            update(credit_reports)
            .where(credit_reports.c.report_no == report.report_no)
            .values(pdf_sha256=None)
        )
    with engine.connect() as conn:
        assert verify_file(conn, report.pdf, settings).identical


def test_the_pdf_names_the_report_and_its_time(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings
) -> None:
    report = _issue(engine, catalog, settings, loaded.company_id)
    assert report.pdf is not None
    # the snapshot's time from the clock, in Beijing time: 2026-12-07 10:00 at TEST_START
    created = re.search(rb"/CreationDate \(D:(\d{14})\+08'00'\)", report.pdf)
    assert created is not None
    assert created.group(1).decode().startswith("20261207100")
    assert re.search(rb"/Keywords \(" + report.report_no.encode() + rb"\)", report.pdf)
    assert b"/Author" in report.pdf and b"/Title" in report.pdf
    name = report_filename(report)
    assert name.endswith("_法人和非法人组织公共信用信息报告_2026-12-07.pdf")
    assert name.startswith(report.content["subject"]["name"])
