"""Issuing and verifying credit reports on both databases, with records loaded by ingestion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.deliveries import LI, XINYUAN
from sqlalchemy import Engine, select, update

from reports.data import CLERK, PHONE, PUBLIC, Loaded, load, myself
from xinyong.audit.models import audit_events
from xinyong.audit.queries import record_read
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.reports.content import ReportKind, canonical_json
from xinyong.reports.models import credit_reports
from xinyong.reports.service import (
    REPORT_NO,
    IssuedReport,
    Status,
    issue_report,
    sha256_of,
    verify_report,
)


def _issue(
    engine: Engine, catalog: Catalog, subject: int, kind: ReportKind = ReportKind.PUBLIC, who=PUBLIC
) -> IssuedReport:
    with engine.begin() as conn:
        return issue_report(conn, catalog, who, subject, kind=kind)


def _text(report: IssuedReport) -> str:
    return report.snapshot


def _datasets(content: dict) -> set[str]:
    return {d["code"] for s in content["sections"] for d in s["datasets"]}


def test_public_report_is_stored_hashed_and_verifies_genuine(
    engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    assert REPORT_NO.match(report.report_no)
    assert report.sha256 == sha256_of(report.snapshot)
    # the stored text is the canonical form of its own content
    assert canonical_json(report.content) == report.snapshot
    content = report.content
    assert content["report_no"] == report.report_no
    assert content["kind"] == "public"
    assert content["subject"]["name"] == XINYUAN.name
    assert content["title"] == "法人和非法人组织公共信用信息报告"
    summary = {s["label"]: s["count"] for s in content["summary"]}
    assert summary["行政管理"] == 3 and summary["基础信息"] == 1
    assert [s["no"] for s in content["sections"]][:3] == ["一", "二", "三"]

    with engine.connect() as conn:
        first = verify_report(conn, report.report_no)
        second = verify_report(conn, report.report_no.lower())  # as typed
    assert first.status is Status.GENUINE and first.genuine
    assert first.computed_sha256 == first.stored_sha256 == report.sha256
    # the same number verifies to the same content, every time
    assert first.content == second.content == content
    assert json.dumps(first.as_dict(), ensure_ascii=False)


def test_issue_is_audited(engine: Engine, catalog: Catalog, loaded: Loaded) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    with engine.connect() as conn:
        event = conn.execute(
            select(audit_events).where(audit_events.c.action == "report.issue")
        ).one()
    assert event.subject_id == loaded.company_id
    assert event.role == "public"
    assert event.detail["report_no"] == report.report_no
    assert event.detail["kind"] == "public"
    assert event.detail["sha256"] == report.sha256


def test_an_altered_snapshot_fails_verification(
    engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    forged = report.snapshot.replace("罚款人民币5000元", "罚款人民币50元", 1)
    assert forged != report.snapshot
    with engine.begin() as conn:
        conn.execute(
            update(credit_reports)
            .where(credit_reports.c.report_no == report.report_no)
            .values(snapshot=forged)
        )
    with engine.connect() as conn:
        result = verify_report(conn, report.report_no)
    assert result.status is Status.ALTERED and not result.genuine
    assert result.stored_sha256 == report.sha256
    assert result.computed_sha256 == sha256_of(forged)
    assert result.content is None  # an altered snapshot is not shown as the report


def test_a_snapshot_moved_under_another_number_is_not_genuine(
    engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    first = _issue(engine, catalog, loaded.company_id)
    second = _issue(engine, catalog, loaded.company_id)
    with engine.begin() as conn:
        conn.execute(
            update(credit_reports)
            .where(credit_reports.c.report_no == second.report_no)
            .values(snapshot=first.snapshot, sha256=first.sha256)
        )
    with engine.connect() as conn:
        assert verify_report(conn, second.report_no).status is Status.ALTERED
        assert verify_report(conn, first.report_no).status is Status.GENUINE


@pytest.mark.parametrize(
    "number",
    ["", "XY", "XY2026112", "../../etc/passwd", "XY20261127AAAAAAAAAAAAAAAAAAA1", "' OR 1=1 --"],
)
def test_malformed_numbers_are_refused(engine: Engine, number: str) -> None:
    with engine.connect() as conn, pytest.raises(XinyongError) as caught:
        verify_report(conn, number)
    assert caught.value.code == "REPORT_NO_INVALID"
    assert not isinstance(caught.value, NotFound)


def test_unknown_number_is_not_found(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(NotFound) as caught:
        verify_report(conn, "XY20261127" + "A" * 20)
    assert caught.value.code == "REPORT_NOT_FOUND"


def test_numbers_are_random(engine: Engine, catalog: Catalog, loaded: Loaded) -> None:
    numbers = {_issue(engine, catalog, loaded.company_id).report_no for _ in range(5)}
    assert len(numbers) == 5
    assert len({n[10:] for n in numbers}) == 5


def test_public_report_holds_only_what_the_public_may_see(
    engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    with engine.begin() as conn:
        record_read(conn, CLERK, loaded.company_id, what="subject.read", purpose="行政许可审查")
    # even asked for by a government clerk, the public report is the public's view
    report = _issue(engine, catalog, loaded.company_id, who=CLERK)
    content = report.content
    assert "query_history" not in content
    assert "行政许可审查" not in report.snapshot
    assert "NSXY" not in _datasets(content)  # 纳税信用等级 is 政务共享
    assert "纳税信用等级" not in report.snapshot
    assert PHONE not in report.snapshot  # 联系电话 is masked: never public
    assert {"FRJC", "XZCF"} <= _datasets(content)
    assert "公开版" in content["kind_label"]


def test_self_report_has_everything_and_the_query_history(
    engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    with engine.begin() as conn:
        record_read(conn, CLERK, loaded.company_id, what="subject.read", purpose="行政许可审查")
        record_read(conn, PUBLIC, loaded.company_id, what="subject.read")  # public: not listed
    report = _issue(engine, catalog, loaded.company_id, ReportKind.SELF, myself(loaded.company_id))
    content = report.content
    assert content["kind"] == "self"
    history = content["query_history"]
    assert len(history) == 1
    assert history[0]["querier"] == "濮阳市生态环境局"
    assert history[0]["purpose"] == "行政许可审查"
    assert history[0]["role"] == "部门经办人"
    assert "env-clerk" not in report.snapshot  # the unit, never the person at the desk
    assert "NSXY" in _datasets(content)
    assert PHONE in report.snapshot
    with engine.connect() as conn:
        assert verify_report(conn, report.report_no).genuine
        event = conn.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "report.issue")
        ).scalar_one()
    assert event["kind"] == "self"


def test_self_report_only_for_the_subject_itself(
    engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    for who in (PUBLIC, CLERK, myself(loaded.person_id)):
        with engine.begin() as conn, pytest.raises(NotAllowed) as caught:
            issue_report(conn, catalog, who, loaded.company_id, kind=ReportKind.SELF)
        assert caught.value.code == "REPORT_SELF_ONLY"
    with engine.connect() as conn:
        assert conn.execute(select(credit_reports)).first() is None


def test_a_person_has_only_a_self_report(engine: Engine, catalog: Catalog, loaded: Loaded) -> None:
    with engine.begin() as conn, pytest.raises(NotAllowed) as caught:
        issue_report(conn, catalog, PUBLIC, loaded.person_id, kind=ReportKind.PUBLIC)
    assert caught.value.code == "REPORT_PERSON_SELF_ONLY"
    report = _issue(engine, catalog, loaded.person_id, ReportKind.SELF, myself(loaded.person_id))
    content = report.content
    assert content["title"] == "个人公共信用信息报告"
    assert content["subject"]["id_number"] == LI.id_number  # the person sees its own number
    assert "XZCF" in _datasets(content)
    assert content["query_history"] == []


def test_unknown_subject(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn, pytest.raises(NotFound):
        issue_report(conn, catalog, PUBLIC, 424242, kind="public")


def test_a_report_keeps_its_content_when_the_records_change(
    engine: Engine, catalog: Catalog, loaded: Loaded, tmp_path: Path
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    load(engine, catalog, tmp_path / "more", penalties=5)  # two more penalties arrive
    later = _issue(engine, catalog, loaded.company_id)
    with engine.connect() as conn:
        again = verify_report(conn, report.report_no)
    assert again.content == report.content
    counts = {s["label"]: s["count"] for s in later.content["summary"]}
    assert counts["行政管理"] == 5
