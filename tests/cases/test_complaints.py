"""Complaints (失信举报) on both databases: the subject found by code or name, routing by
industry, by the reporter's choice or to the platform, the deadline on the calendar, answering,
refusals, the reporter never reaching the subject, statistics, and `xinyong cases file --kind
complaint`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, record_by_wsh, run, write_csv
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.accounts.roles import Principal, Role
from xinyong.cases import complaints, service, stats
from xinyong.cases import files as case_files
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.cli import app
from xinyong.clock import CHINA, Clock, FixedClock
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.notifications import inbox
from xinyong.workdays.calendar import WorkCalendar, work_calendar

ROOT = Path(__file__).resolve().parents[2]
WSH = "濮市监罚决字〔2026〕00311号"
TAX = "11410900PY0000030F"
PUBLIC = Principal.public("203.0.113.9")
SAMR_CLERK = Principal(role=Role.CLERK, name="samr-clerk", dept_uscc=SAMR.uscc, source="t")
TAX_CLERK = Principal(role=Role.CLERK, name="tax-clerk", dept_uscc=TAX, source="t")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def clock() -> Clock:
    return FixedClock(datetime(2026, 12, 7, 10, tzinfo=CHINA).astimezone(UTC))


@pytest.fixture
def cal() -> WorkCalendar:
    return work_calendar(ROOT / "catalog" / "calendar")


@pytest.fixture
def record(engine: Engine, catalog: Catalog, tmp_path: Path) -> dict[str, Any]:
    run(engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN, WSH)]))
    run(
        engine, catalog, write_csv(tmp_path / "h.csv", [penalty(HENGDA, "濮市监罚决字〔2026〕9号")])
    )
    return record_by_wsh(engine, WSH)


def test_routing_table_names_registered_departments(catalog: Catalog) -> None:
    table = complaints.load_routing(catalog.root)
    known = set(catalog.seed_departments)
    assert all(i.dept is None or i.dept in known for i in table.industries)
    assert table.industry("other") is not None and table.industry("other").dept is None  # type: ignore[union-attr]


def test_complaint_routed_by_industry_and_answered(
    engine: Engine,
    catalog: Catalog,
    cal: WorkCalendar,
    record: dict[str, Any],
    tmp_path: Path,
) -> None:
    with engine.begin() as conn:
        found, code = complaints.file_complaint(
            conn,
            PUBLIC,
            catalog,
            cal,
            subject_name="",
            subject_code=XINYUAN.uscc,
            reason="销售过期食品",
            industry="market",
            reporter_name="王某",
            reporter_contact="13800000000",
            uploads=[case_files.Upload("photo.png", PNG)],
            data_dir=tmp_path,
        )
    assert found.kind == "complaint" and found.case_no.startswith("JB20261207-")
    assert found.subject_id == record["subject_id"]
    assert found.dept_uscc == SAMR.uscc and found.route == "department"
    # 15 working days from Monday 2026-12-07 (no holiday in between): Monday 2026-12-28
    assert found.deadline.isoformat() == "2026-12-28" and not found.deadline_provisional
    assert found.filed_by == service.REPORTER and found.channel == "online"
    with engine.begin() as conn:
        assert service.follow(conn, found.case_no, code).id == found.id
        assert complaints.reporter_of(conn, SAMR_CLERK, found)["contact"] == "13800000000"
        with pytest.raises(NotFound):
            complaints.reporter_of(conn, TAX_CLERK, found)
        with pytest.raises(NotAllowed):
            complaints.decide(conn, TAX_CLERK, found.case_no, outcome="referred", reason="x")
    with engine.begin() as conn, pytest.raises(XinyongError) as bad:
        complaints.decide(conn, SAMR_CLERK, found.case_no, outcome="upheld", reason="x")
    assert bad.value.code == "CASE_OUTCOME_UNKNOWN"
    with engine.begin() as conn:
        closed = complaints.decide(
            conn, SAMR_CLERK, found.case_no, outcome="substantiated", reason="已立案查处"
        )
    assert closed.state == "closed" and closed.closed_on_time is True
    with engine.begin() as conn:
        figures = stats.statistics(conn, cal)
    assert figures["total"]["received"] == 1 and figures["total"]["answered"] == 1
    assert figures["total"]["in_time_percent"] == 100.0
    assert figures["total"]["median_working_days"] == 0
    assert figures["departments"][SAMR.uscc]["outcomes"] == {"查证属实": 1}
    assert list(figures["months"]) == ["2026-12"] and list(figures["kinds"]) == ["complaint"]


def test_reporter_never_reaches_the_subject(
    engine: Engine, catalog: Catalog, cal: WorkCalendar, record: dict[str, Any]
) -> None:
    reporter = Principal(role=Role.SUBJECT, name="hengda-account", subject_id=999, source="t")
    with engine.begin() as conn:
        found, _ = complaints.file_complaint(
            conn,
            reporter,
            catalog,
            cal,
            subject_name=XINYUAN.name,
            subject_code="",
            reason="虚假宣传",
            dept=TAX,
            reporter_name="李举报",
            reporter_contact="li@example.org",
        )
    assert found.subject_id == record["subject_id"] and found.dept_uscc == TAX
    subject = Principal(role=Role.SUBJECT, name="xinyuan", subject_id=record["subject_id"])
    with engine.begin() as conn:
        # the subject's case list, the case itself, its inbox: nothing of the complaint
        assert service.list_cases(conn, subject, open_only=False) == []
        with pytest.raises(NotFound):
            service.case_for(conn, subject, found.case_no)
        assert inbox.messages(conn, subject_id=record["subject_id"], dept_uscc=None) == []
        events = service.history(conn, found.id, internal=True)
        shown = json.dumps(found.as_dict(), ensure_ascii=False) + json.dumps(
            [e["actor"] for e in events], ensure_ascii=False
        )
        assert "李举报" not in shown and "hengda-account" not in shown
        assert "li@example.org" not in shown
        stored = conn.scalar(select(cases.c.reporter).where(cases.c.id == found.id))
    assert stored["name"] == "李举报" and stored["account"] == "hengda-account"


def test_complaint_refusals(
    engine: Engine, catalog: Catalog, cal: WorkCalendar, record: dict[str, Any]
) -> None:
    def file(**kw: Any) -> Any:
        args: dict[str, Any] = {"subject_name": "某公司", "subject_code": "", "reason": "事实"}
        with engine.begin() as conn:
            return complaints.file_complaint(conn, PUBLIC, catalog, cal, **(args | kw))

    for kw, code in (
        ({"subject_name": ""}, "COMPLAINT_SUBJECT_REQUIRED"),
        ({"reason": "  "}, "CASE_REASON_REQUIRED"),
        ({"industry": "nope"}, "COMPLAINT_INDUSTRY_UNKNOWN"),
        ({"dept": "11410900PY0000000X"}, "COMPLAINT_DEPT_UNKNOWN"),
        ({"uploads": [case_files.Upload("a.pdf", b"MZ\x90")]}, "CASE_FILE_REFUSED"),
    ):
        with pytest.raises(XinyongError) as err:
            file(**kw)
        assert err.value.code == code, kw
    with engine.begin() as conn:
        assert conn.scalar(select(cases.c.id)) is None  # nothing half-written
    # an unknown subject is still received, into the platform's queue without an industry
    found, _ = file(subject_name="不存在的公司")
    assert found.subject_id is None and found.dept_uscc is None and found.route == "platform"
    auditor = Principal(role=Role.AUDITOR, name="aud", source="t")
    with engine.begin() as conn, pytest.raises(NotAllowed):
        complaints.file_complaint(
            conn, auditor, catalog, cal, subject_name="x", subject_code="", reason="x"
        )


def test_follow_answers_the_same_for_every_wrong_pair(
    engine: Engine, catalog: Catalog, cal: WorkCalendar, record: dict[str, Any]
) -> None:
    with engine.begin() as conn:
        found, code = complaints.file_complaint(
            conn, PUBLIC, catalog, cal, subject_name="", subject_code=XINYUAN.uscc, reason="x"
        )
    messages = set()
    for case_no, given in (
        (found.case_no, "00000000"),
        ("JB20261207-9999", code),
        ("JB2026'--", code),
        ("", ""),
    ):
        with engine.begin() as conn, pytest.raises(NotFound) as err:
            service.follow(conn, case_no, given)
        messages.add((err.value.code, err.value.message))
    assert len(messages) == 1


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cases_file_kind_complaint(cli: None, engine: Engine, record: dict[str, Any]) -> None:
    res = _cli(
        "cases",
        "file",
        "--kind",
        "complaint",
        "--subject",
        XINYUAN.uscc,
        "--industry",
        "tax",
        "--reason",
        "虚开发票",
        "--reporter",
        "赵某",
        "--json",
    )
    assert res.exit_code == 0, res.output
    filed = json.loads(res.stdout)
    assert filed["kind"] == "complaint" and filed["dept_uscc"] == TAX
    assert filed["follow_code"] and "赵某" not in res.stdout
    res = _cli(
        "cases",
        "decide",
        filed["case_no"],
        "--outcome",
        "unsubstantiated",
        "--reason",
        "经核查无此事",
        "--dept",
        TAX,
        "--json",
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["outcome"] == "unsubstantiated"
    missing = _cli("cases", "file", "--kind", "complaint", "--reason", "x", "--json")
    assert missing.exit_code != 0
    assert json.loads(missing.stdout)["error"]["code"] == "COMPLAINT_SUBJECT_REQUIRED"
