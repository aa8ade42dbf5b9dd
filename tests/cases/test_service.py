"""The case model on both databases: receipt and deadlines on the real working-day calendar
(Spring Festival and National Day with 调休, a year not yet known), pause and resume, the
queue order, assignment, closing only with an outcome and a reason, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.cases import service, states
from xinyong.cases.models import case_events
from xinyong.clock import CHINA, Clock, FixedClock
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.notifications import inbox
from xinyong.workdays.calendar import WorkCalendar, work_calendar

ROOT = Path(__file__).resolve().parents[2]
DEPT = "11410900PY00000569"
OTHER_DEPT = "11410900PY00000577"
CLERK = Principal(role=Role.CLERK, name="clerk-a", dept_uscc=DEPT, source="test")
OTHER = Principal(role=Role.CLERK, name="clerk-b", dept_uscc=OTHER_DEPT, source="test")
OPERATOR = Principal(role=Role.OPERATOR, name="op", source="test")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=CHINA).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return FixedClock(_at(date(2026, 12, 7)))


@pytest.fixture
def cal() -> WorkCalendar:
    return work_calendar(ROOT / "catalog" / "calendar")


def _open(conn: Connection, cal: WorkCalendar, days: int = 7) -> service.Case:
    found, code = service.open_case(
        conn,
        OPERATOR,
        cal,
        kind="complaint",
        reason="某公司长期拖欠工资",
        deadline_days=days,
        dept_uscc=DEPT,
        dept_deadline_days=3,
        channel="window",
    )
    assert len(code) == 8
    return found


def _move(clock: Clock, day: date) -> None:
    assert isinstance(clock, FixedClock)
    clock.set(_at(day))


def test_receipt_counts_working_days(conn: Connection, cal: WorkCalendar) -> None:
    found = _open(conn, cal)
    assert found.case_no == "JB20261207-0001"
    assert found.state == states.RECEIVED
    # Monday 7 December + 7 working days; the department has 3 from its notice (same day)
    assert found.deadline == date(2026, 12, 16) and not found.deadline_provisional
    assert found.dept_deadline == date(2026, 12, 10)
    assert _open(conn, cal).case_no == "JB20261207-0002"


@pytest.mark.parametrize(
    ("received", "days", "due", "provisional"),
    [
        # Spring Festival 2026: 15–23 February off, Saturday 14 and 28 February worked
        (date(2026, 2, 12), 7, date(2026, 2, 28), False),
        # National Day 2026: 1–7 October off
        (date(2026, 9, 29), 3, date(2026, 10, 9), False),
        # into 2027, whose holiday notice is not known: Monday to Friday, 暂定
        (date(2026, 12, 28), 7, date(2027, 1, 6), True),
    ],
)
def test_deadlines_on_the_calendar(
    conn: Connection,
    cal: WorkCalendar,
    clock: Clock,
    received: date,
    days: int,
    due: date,
    provisional: bool,
) -> None:
    _move(clock, received)
    found = _open(conn, cal, days)
    assert (found.deadline, found.deadline_provisional) == (due, provisional)
    assert found.as_dict()["deadline_provisional"] is provisional
    assert found.deadline_label().endswith("（暂定）") is provisional


def test_pause_and_resume_move_the_deadline(
    conn: Connection, cal: WorkCalendar, clock: Clock
) -> None:
    found = _open(conn, cal)
    with pytest.raises(XinyongError) as err:
        service.pause(conn, CLERK, cal, found.case_no, cause="inspection", reason=" ")
    assert err.value.code == "CASE_REASON_REQUIRED"
    paused = service.pause(conn, CLERK, cal, found.case_no, cause="inspection", reason="送检")
    assert paused.state == states.PAUSED and paused.paused_on == date(2026, 12, 7)
    with pytest.raises(Conflict):
        service.pause(conn, CLERK, cal, found.case_no, cause="inspection", reason="again")
    _move(clock, date(2026, 12, 14))  # a week later: 5 working days paused
    resumed = service.resume(conn, CLERK, cal, found.case_no, "检测报告已出")
    assert resumed.state == states.RECEIVED
    assert resumed.paused_days == 5
    assert resumed.deadline == date(2026, 12, 23)
    assert resumed.dept_deadline == date(2026, 12, 17)
    with pytest.raises(Conflict) as not_paused:
        service.resume(conn, CLERK, cal, found.case_no, "again")
    assert not_paused.value.code == "CASE_NOT_PAUSED"


def test_material_does_not_pause_an_objection_clock_but_does_a_repairs(
    conn: Connection, cal: WorkCalendar
) -> None:
    found = _open(conn, cal)  # a complaint: material does not stop its clock
    with pytest.raises(XinyongError) as err:
        service.pause(conn, CLERK, cal, found.case_no, cause="material", reason="缺材料")
    assert err.value.code == "CASE_PAUSE_NOT_COUNTED"
    after = service.request_material(conn, CLERK, cal, found.case_no, "请提供工资支付记录")
    assert after.state == states.RECEIVED
    repair, _ = service.open_case(
        conn, OPERATOR, cal, kind="repair", reason="已履行", deadline_days=5, dept_uscc=DEPT
    )
    after = service.request_material(conn, CLERK, cal, repair.case_no, "请提供缴款凭证")
    assert after.state == states.PAUSED and after.pause_cause == "material"


def test_close_needs_outcome_and_reason_and_is_final(conn: Connection, cal: WorkCalendar) -> None:
    found = _open(conn, cal)
    with pytest.raises(XinyongError) as no_outcome:
        service.close_case(conn, CLERK, found, outcome="upheld", reason="x")
    assert no_outcome.value.code == "CASE_OUTCOME_UNKNOWN"
    with pytest.raises(XinyongError) as no_reason:
        service.close_case(conn, CLERK, found, outcome="unsubstantiated", reason="")
    assert no_reason.value.code == "CASE_REASON_REQUIRED"
    closed = service.close_case(
        conn, CLERK, found, outcome="unsubstantiated", reason="经核查无欠薪"
    )
    assert closed.state == states.CLOSED and closed.closed_on_time is True
    assert closed.outcome_label == "查无实据"
    with pytest.raises(Conflict) as again:
        service.close_case(conn, CLERK, closed, outcome="substantiated", reason="改判")
    assert again.value.code == "CASE_CLOSED"
    with pytest.raises(Conflict):
        service.assign(conn, CLERK, found.case_no, "someone")
    kinds = [
        (e.kind, e.from_state, e.to_state, e.actor)
        for e in conn.execute(select(case_events).order_by(case_events.c.id))
    ]
    assert kinds == [
        ("filed", None, "received", "op"),
        ("decided", "received", "closed", "clerk-a"),
    ]
    actions = [
        r.action for r in conn.execute(select(audit_events.c.action).order_by(audit_events.c.seq))
    ]
    assert actions == ["case.filed", "case.closed"]


def test_other_department_and_forged_numbers_are_refused(
    conn: Connection, cal: WorkCalendar
) -> None:
    found = _open(conn, cal)
    with pytest.raises(NotFound) as other:
        service.assign(conn, OTHER, found.case_no, "clerk-b")
    assert other.value.code == "CASE_NOT_FOUND"
    for forged in ("JB20261207-0099", "JB2026'; drop table cases;--", ""):
        with pytest.raises(NotFound):
            service.get_case(conn, forged)
    with pytest.raises(NotAllowed):
        service.list_cases(conn, OTHER, dept_uscc=DEPT)
    with pytest.raises(NotAllowed):
        service.transfer(conn, CLERK, cal, found.case_no, OTHER_DEPT, "改派")
    moved = service.transfer(conn, OPERATOR, cal, found.case_no, OTHER_DEPT, "职责调整")
    assert moved.dept_uscc == OTHER_DEPT
    assert service.assign(conn, OTHER, found.case_no, "clerk-b").assignee == "clerk-b"


def test_queue_puts_overdue_first(conn: Connection, cal: WorkCalendar, clock: Clock) -> None:
    late = _open(conn, cal, 3)
    _move(clock, date(2026, 12, 9))
    soon = _open(conn, cal, 7)
    paused = _open(conn, cal, 1)
    service.pause(conn, CLERK, cal, paused.case_no, cause="inspection", reason="鉴定")
    _move(clock, date(2026, 12, 11))
    queue = service.list_cases(conn, CLERK)
    assert [c.case_no for c in queue] == [late.case_no, soon.case_no, paused.case_no]
    today = date(2026, 12, 11)
    assert [c.urgency(today, cal) for c in queue] == ["overdue", "ok", "paused"]
    assert service.list_cases(conn, OTHER) == []


def test_every_change_reaches_the_department_inbox(conn: Connection, cal: WorkCalendar) -> None:
    found = _open(conn, cal)
    service.pause(conn, CLERK, cal, found.case_no, cause="inspection", reason="送检")
    got = inbox.messages(conn, subject_id=None, dept_uscc=DEPT)
    assert [m.title for m in got] == [
        f"办件 {found.case_no} 中止计时",
        f"失信举报办件 {found.case_no} 已受理",
    ]
    assert inbox.unread(conn, subject_id=None, dept_uscc=DEPT) == 2
    assert inbox.mark_read(conn, subject_id=None, dept_uscc=DEPT, reader="clerk-a") == 2
    assert inbox.unread(conn, subject_id=None, dept_uscc=DEPT) == 0


def test_follow_by_number_and_code(conn: Connection, cal: WorkCalendar) -> None:
    found, code = service.open_case(
        conn, OPERATOR, cal, kind="objection", reason="信息有误", deadline_days=3
    )
    assert service.follow(conn, found.case_no, code.lower()).id == found.id
    with pytest.raises(NotFound):
        service.follow(conn, found.case_no, "00000000")
    assert found.dept_uscc is None and found.dept_deadline is None


def test_provisional_deadlines_are_counted_again_when_the_year_is_known(
    conn: Connection, cal: WorkCalendar, clock: Clock, tmp_path: Path
) -> None:
    from xinyong.cases.deadlines import recompute_provisional

    _move(clock, date(2026, 12, 28))
    found = _open(conn, cal, 7)
    assert (found.deadline, found.deadline_provisional) == (date(2027, 1, 6), True)
    # still unknown: stays provisional
    assert recompute_provisional(conn, cal)["still_provisional"] == 1
    # the 2027 notice arrives (a synthetic file for the test: 1–3 January off)
    folder = tmp_path / "calendar"
    folder.mkdir()
    (folder / "2027.yaml").write_text(
        "year: 2027\n"
        "source:\n"
        "  title: 关于2027年部分节假日安排的通知（测试用合成文件，非真实通知）\n"
        "  document_no: 测试〔2026〕1号\n"
        "  issued_on: 2026-11-01\n"
        "holidays:\n"
        "  - name: 元旦\n"
        "    start: 2027-01-01\n"
        "    end: 2027-01-03\n",
        encoding="utf-8",
    )
    counts = recompute_provisional(conn, work_calendar(folder))
    assert counts == {"confirmed": 1, "changed": 1, "still_provisional": 0}
    again = service.get_case(conn, found.case_no)
    # 1 January 2027 (a Friday) is now a day off: the seventh working day moves a day later
    assert (again.deadline, again.deadline_provisional) == (date(2027, 1, 7), False)
    assert again.dept_deadline == date(2026, 12, 31) and not again.dept_deadline_provisional
