"""Objections on both databases, through real deliveries: the record turns 异议中 at once
(and the check says 异议处理中), routing and deadlines per Henan art. 41 and art. 28, the
outcomes, evidence files, refusals (another subject's record, another department, a closed
case, a forged number), and the `xinyong cases` commands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, record_by_wsh, run, write_csv
from lists.rows import NDRC, deliver, headers, list_row, record_by_doc
from sqlalchemy import Connection, Engine, select
from typer.testing import CliRunner

from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.cases import files as case_files
from xinyong.cases import objections, service
from xinyong.cases.models import case_files as case_files_table
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_check
from xinyong.cli import app
from xinyong.clock import CHINA, Clock, FixedClock
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.lists.models import list_events
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.notifications import inbox
from xinyong.records import states
from xinyong.workdays.calendar import WorkCalendar, work_calendar

ROOT = Path(__file__).resolve().parents[2]
WSH = "濮市监罚决字〔2026〕00311号"
SAMR_CLERK = Principal(role=Role.CLERK, name="samr-clerk", dept_uscc=SAMR.uscc, source="t")
NDRC_CLERK = Principal(role=Role.CLERK, name="ndrc-clerk", dept_uscc=NDRC.uscc, source="t")
CHECKER = Principal(role=Role.CLERK, name="checker", dept_uscc=SAMR.uscc, source="t")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def clock() -> Clock:
    return FixedClock(datetime(2026, 12, 7, 10, tzinfo=CHINA).astimezone(UTC))


@pytest.fixture
def cal() -> WorkCalendar:
    return work_calendar(ROOT / "catalog" / "calendar")


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


def _penalty(**cells: str) -> dict[str, str]:
    return penalty(XINYUAN, WSH, 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15", **cells)


@pytest.fixture
def record(engine: Engine, catalog: Catalog, tmp_path: Path) -> dict[str, Any]:
    run(engine, catalog, write_csv(tmp_path / "p.csv", [_penalty()]))
    run(
        engine, catalog, write_csv(tmp_path / "h.csv", [penalty(HENGDA, "濮市监罚决字〔2026〕9号")])
    )
    return record_by_wsh(engine, WSH)


def _subject(rec: dict[str, Any]) -> Principal:
    return Principal(role=Role.SUBJECT, name="xinyuan", subject_id=rec["subject_id"], source="t")


def _state(conn: Connection, record_id: int) -> str:
    from xinyong.records.models import records

    return str(conn.scalar(select(records.c.state).where(records.c.id == record_id)))


def test_objection_to_a_record_is_marked_and_corrected(
    engine: Engine,
    catalog: Catalog,
    cal: WorkCalendar,
    record: dict[str, Any],
    tmp_path: Path,
) -> None:
    me = _subject(record)
    with engine.begin() as conn:
        found, code = objections.file_objection(
            conn,
            me,
            cal,
            record["id"],
            reason="罚款金额登记错误，应为3000元",
            uploads=[case_files.Upload("决定书.png", PNG)],
            data_dir=tmp_path / "data",
        )
        assert _state(conn, record["id"]) == states.OBJECTED
    assert found.case_no.startswith("YY20261207-") and found.dept_uscc == SAMR.uscc
    # art. 41: 7 working days from receipt; the department 3 from its notice (same day)
    assert found.deadline == date(2026, 12, 16) and found.dept_deadline == date(2026, 12, 10)
    assert found.channel == "online" and found.target == "record"
    with engine.begin() as conn:
        stored = conn.execute(select(case_files_table)).one()
        assert stored.media_type == "png" and stored.original_name == "决定书.png"
        assert (tmp_path / "data" / "cases" / stored.stored_name).read_bytes() == PNG
        content, ctype, name = case_files.read(conn, tmp_path / "data", found.id, stored.id)
        assert content == PNG and ctype == "image/png" and name.endswith(".png")
        # the department cannot claim a correction it has not delivered
        with pytest.raises(Conflict) as early:
            objections.decide(conn, SAMR_CLERK, found.case_no, outcome="corrected", reason="已更正")
        assert early.value.code == "OBJECTION_NOT_CORRECTED"
    # the ordinary correction path: the department delivers the corrected row
    run(engine, catalog, write_csv(tmp_path / "c.csv", [_penalty(处罚内容="罚款人民币3000元")]))
    with engine.begin() as conn:
        assert _state(conn, record["id"]) == states.OBJECTED  # a delivery does not close it
        closed = objections.decide(
            conn, SAMR_CLERK, found.case_no, outcome="corrected", reason="经核实，金额已更正"
        )
        assert closed.outcome == "corrected" and closed.closed_on_time
        assert _state(conn, record["id"]) == states.PUBLISHED
        doc = objections.decision(conn, me, found.case_no)
        assert doc["record"]["version"] == 2
        got = inbox.messages(conn, subject_id=record["subject_id"], dept_uscc=None)
        assert got[0].title == f"异议办件 {found.case_no} 已办结：予以更正"
        assert service.follow(conn, found.case_no, code).state == "closed"
        actions = [
            r.action
            for r in conn.execute(select(audit_events).order_by(audit_events.c.seq))
            if r.action.startswith(("case.", "record."))
        ]
    assert actions == [
        "case.filed",
        "record.objection",
        "case.closed",
        "record.objection_closed",
    ]


def test_objection_refusals_change_nothing(
    engine: Engine, cal: WorkCalendar, record: dict[str, Any], tmp_path: Path
) -> None:
    me = _subject(record)
    other = record_by_wsh(engine, "濮市监罚决字〔2026〕9号")
    with engine.begin() as conn:
        with pytest.raises(NotAllowed) as not_mine:
            objections.file_objection(conn, me, cal, other["id"], reason="不是我的")
        assert not_mine.value.code == "OBJECTION_NOT_OWN_RECORD"
        with pytest.raises(XinyongError) as bad_file:
            objections.file_objection(
                conn,
                me,
                cal,
                record["id"],
                reason="x",
                uploads=[case_files.Upload("证据.pdf", b"MZ\x90\x00 not a pdf")],
                data_dir=tmp_path,
            )
        assert bad_file.value.code == "CASE_FILE_REFUSED"
        assert _state(conn, record["id"]) == states.PUBLISHED
        with pytest.raises(NotAllowed):
            auditor = Principal(role=Role.AUDITOR, name="aud", source="t")
            objections.file_objection(conn, auditor, cal, record["id"], reason="x")
    with engine.begin() as conn:
        found, _ = objections.file_objection(conn, me, cal, record["id"], reason="信息有误")
        with pytest.raises(Conflict) as twice:
            objections.file_objection(conn, me, cal, record["id"], reason="再次")
        assert twice.value.code == "OBJECTION_OPEN"
        with pytest.raises(NotAllowed) as not_owner:
            objections.decide(conn, NDRC_CLERK, found.case_no, outcome="upheld", reason="维持")
        assert not_owner.value.code == "CASE_NOT_OWNER"
        with pytest.raises(NotFound):
            objections.decide(conn, SAMR_CLERK, "YY20261207-9999", outcome="upheld", reason="x")
        objections.withdraw(conn, me, found.case_no, "已与部门沟通，撤回")
        assert _state(conn, record["id"]) == states.PUBLISHED
        with pytest.raises(Conflict) as closed:
            objections.decide(conn, SAMR_CLERK, found.case_no, outcome="upheld", reason="维持")
        assert closed.value.code == "CASE_CLOSED"


def test_platform_objection_three_days_then_department(
    engine: Engine, cal: WorkCalendar, record: dict[str, Any]
) -> None:
    operator = Principal(role=Role.OPERATOR, name="op", source="t")
    with engine.begin() as conn:
        found, _ = objections.file_objection(
            conn, operator, cal, record["id"], reason="页面显示的名称错误", route="platform"
        )
        assert found.channel == "window" and found.dept_uscc is None
        assert found.deadline == date(2026, 12, 10)
        with pytest.raises(NotAllowed):
            objections.decide(conn, SAMR_CLERK, found.case_no, outcome="upheld", reason="x")
        moved = objections.to_department(conn, operator, cal, found.case_no, "需部门核实")
        assert moved.dept_uscc == SAMR.uscc and moved.deadline == date(2026, 12, 16)
        assert moved.dept_deadline == date(2026, 12, 10)


def test_list_entry_objection_goes_to_the_designating_department(
    engine: Engine, catalog: Catalog, measures: Measures, cal: WorkCalendar, tmp_path: Path
) -> None:
    row = list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕1号", NDRC)
    deliver(engine, catalog, tmp_path, "YZSX", [row])
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    with engine.begin() as conn:
        found, _ = objections.file_objection(
            conn, _subject(rec), cal, rec["id"], reason="已履行", route="platform"
        )
        assert found.target == "list_entry" and found.dept_uscc == NDRC.uscc
        assert found.route == "department"
        res = run_check(
            conn, catalog, measures, CHECKER, subject_code=XINYUAN.uscc, matter="procurement"
        )
        assert res.subject_state == ["异议处理中"] and res.measures == []
        objections.decide(conn, NDRC_CLERK, found.case_no, outcome="upheld", reason="认定无误")
        kinds = [e.kind for e in conn.execute(select(list_events).order_by(list_events.c.id))]
        assert kinds[-2:] == ["objected", "objection_closed"]
        res = run_check(
            conn, catalog, measures, CHECKER, subject_code=XINYUAN.uscc, matter="procurement"
        )
        assert res.measures != []


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result


def test_cases_commands(cli: None, engine: Engine, record: dict[str, Any], tmp_path: Path) -> None:
    evidence = tmp_path / "e.png"
    evidence.write_bytes(PNG)
    res = _cli(
        "cases",
        "file",
        str(record["id"]),
        "--reason",
        "金额有误",
        "--file",
        str(evidence),
        "--json",
    )
    assert res.exit_code == 0, res.output
    filed = json.loads(res.stdout)
    case_no = filed["case_no"]
    assert filed["kind"] == "objection" and filed["state"] == "received"
    assert filed["deadline"] == "2026-12-16" and filed["deadline_provisional"] is False
    listed = json.loads(_cli("cases", "list", "--json").stdout)
    assert [c["case_no"] for c in listed] == [case_no]
    res = _cli("cases", "pause", case_no, "--reason", "送检", "--dept", SAMR.uscc, "--json")
    assert json.loads(res.stdout)["state"] == "paused"
    res = _cli("cases", "resume", case_no, "--reason", "检测完毕", "--dept", SAMR.uscc, "--json")
    assert json.loads(res.stdout)["state"] == "received"
    shown = json.loads(_cli("cases", "show", case_no, "--json").stdout)
    assert [e["kind"] for e in shown["events"]] == ["filed", "paused", "resumed"]
    wrong = _cli(
        "cases",
        "decide",
        case_no,
        "--outcome",
        "upheld",
        "--reason",
        "x",
        "--dept",
        NDRC.uscc,
        "--json",
    )
    # another department's case is "not found", as on the API: no oracle of which numbers exist
    assert wrong.exit_code == 2 and json.loads(wrong.stdout)["error"]["code"] == "CASE_NOT_FOUND"
    forged = _cli("cases", "show", "YY2026'--", "--json")
    assert forged.exit_code == 2 and json.loads(forged.stdout)["error"]["code"] == "CASE_NOT_FOUND"
    res = _cli(
        "cases",
        "decide",
        case_no,
        "--outcome",
        "upheld",
        "--reason",
        "经核实无误",
        "--dept",
        SAMR.uscc,
        "--json",
    )
    assert res.exit_code == 0, res.output
    decided = json.loads(res.stdout)
    assert decided["state"] == "closed" and decided["outcome"] == "upheld"
    again = _cli("cases", "decide", case_no, "--outcome", "upheld", "--reason", "x", "--json")
    assert json.loads(again.stdout)["error"]["code"] == "CASE_CLOSED"
    with engine.connect() as conn:
        refused = conn.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "case.refused")
        ).all()
    # the other department's attempt and the forged number both say "not found"
    assert [r.detail["code"] for r in refused].count("CASE_NOT_FOUND") == 2
    assert {r.detail["code"] for r in refused} == {"CASE_NOT_FOUND", "CASE_CLOSED"}
    text = _cli("cases", "show", case_no)
    assert "维持原信息" in text.stdout
