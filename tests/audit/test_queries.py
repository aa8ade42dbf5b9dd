"""Read events and "who looked at my record", on every test database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fixtures.deliveries import ENV, SAMR, XINYUAN
from sqlalchemy import Connection, Engine, insert
from typer.testing import CliRunner

from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.audit.queries import (
    FREE_SELF_REPORTS_PER_YEAR,
    beijing_year,
    free_self_reports_left,
    queries_about,
    record_read,
    self_reports_used,
)
from xinyong.catalog.loader import Catalog
from xinyong.cli import app
from xinyong.clock import Clock
from xinyong.departments import service as departments
from xinyong.subjects.models import subjects

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _subject(conn: Connection, name: str, uscc: str) -> int:
    new_id = conn.scalar(
        insert(subjects)
        .values(
            category="法人及非法人组织",
            database="法人",
            name=name,
            name_norm=name,
            uscc=uscc,
            created_at=T0,
            updated_at=T0,
        )
        .returning(subjects.c.id)
    )
    assert new_id is not None
    return int(new_id)


def _clerk(dept: str, name: str) -> Principal:
    return Principal(role=Role.CLERK, name=name, dept_uscc=dept, source="10.1.1.1")


@pytest.fixture
def xinyuan(engine: Engine) -> int:
    with engine.begin() as conn:
        return _subject(conn, XINYUAN.name, XINYUAN.uscc)


def test_queries_about_lists_other_departments_but_not_the_subject_itself(
    engine: Engine, catalog: Catalog, xinyuan: int
) -> None:
    own = Principal(role=Role.SUBJECT, name="xinyuan", subject_id=xinyuan)
    other_subject = Principal(role=Role.SUBJECT, name="hengda", subject_id=xinyuan + 100)
    with engine.begin() as conn:
        record_read(conn, _clerk(SAMR.uscc, "samr.wang"), xinyuan, what="subject.read",
                    purpose=" 行政许可  审查 ")  # fmt: skip
        record_read(conn, own, xinyuan, what="subject.read")
        record_read(conn, own, xinyuan, what="report.issue")
        record_read(conn, Principal.public("1.2.3.4"), xinyuan, what="subject.read")
        record_read(conn, other_subject, xinyuan, what="report.issue", kind="public")
        record_read(conn, _clerk(ENV.uscc, "env.li"), xinyuan, what="record.read",
                    purpose="环保执法", record_ids=[7, 9])  # fmt: skip
        record_read(conn, Principal.cli("root@host"), xinyuan, what="check.run", purpose="核查")
        # another subject's history is not this one's
        record_read(conn, _clerk(SAMR.uscc, "samr.wang"), xinyuan + 1, what="subject.read")
        entries = queries_about(conn, xinyuan, dept_names=departments.names(conn))
    assert [(e.dept_name, e.role_label, e.what, e.purpose) for e in entries] == [
        ("平台管理员（信用办）", "平台管理员（信用办）", "联合奖惩核查", "核查"),
        (ENV.name, "部门经办人", "查看信用记录详情", "环保执法"),
        (SAMR.name, "部门经办人", "查看信用信息", "行政许可 审查"),
    ]
    # Beijing time for people, UTC underneath; the clerk's own name is not shown
    first = entries[-1]
    assert first.when == (first.at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert "samr.wang" not in json.dumps([e.as_dict() for e in entries], ensure_ascii=False)


def test_the_read_event_carries_the_convention(engine: Engine, xinyuan: int) -> None:
    with engine.begin() as conn:
        event = record_read(
            conn,
            _clerk(SAMR.uscc, "samr.wang"),
            xinyuan,
            what="record.read",
            purpose="行政许可审查",
            record_ids=[42, 43],
        )
        assert audit.verify(conn).ok
    assert (event.action, event.role, event.dept_uscc) == ("record.read", "clerk", SAMR.uscc)
    assert (event.subject_id, event.record_id, event.purpose) == (xinyuan, 42, "行政许可审查")
    assert event.detail == {"record_ids": [42, 43]}
    assert event.source == "10.1.1.1"
    with engine.begin() as conn, pytest.raises(ValueError):
        record_read(conn, _clerk(SAMR.uscc, "x"), xinyuan, what="subject.peek")


def test_since_limits_the_history(
    engine: Engine, clock: Clock, catalog: Catalog, xinyuan: int
) -> None:
    with engine.begin() as conn:
        record_read(conn, _clerk(SAMR.uscc, "samr.wang"), xinyuan, what="subject.read")
        now = clock.now()
        assert len(
            queries_about(
                conn, xinyuan, dept_names=departments.names(conn), since=now - timedelta(hours=1)
            )
        )
        assert (
            queries_about(
                conn, xinyuan, dept_names=departments.names(conn), since=now + timedelta(hours=1)
            )
            == []
        )


def test_free_self_reports_are_counted_per_beijing_year(
    engine: Engine, clock: Clock, xinyuan: int
) -> None:
    own = Principal(role=Role.SUBJECT, name="xinyuan", subject_id=xinyuan)
    year = clock.today().year
    with engine.begin() as conn:
        assert self_reports_used(conn, xinyuan, year) == 0
        record_read(conn, own, xinyuan, what="report.issue")
        record_read(conn, own, xinyuan, what="report.issue", kind="public")  # not a self report
        record_read(conn, _clerk(SAMR.uscc, "samr.wang"), xinyuan, what="report.issue")
        record_read(conn, own, xinyuan, what="subject.read")
        # a report of another subject
        other = Principal(role=Role.SUBJECT, name="hengda", subject_id=xinyuan + 1)
        record_read(conn, other, xinyuan + 1, what="report.issue")
        assert self_reports_used(conn, xinyuan, year) == 1
        assert free_self_reports_left(conn, xinyuan, year) == FREE_SELF_REPORTS_PER_YEAR - 1
        record_read(conn, own, xinyuan, what="report.issue")
        record_read(conn, own, xinyuan, what="report.issue")
        assert self_reports_used(conn, xinyuan, year) == 3
        assert free_self_reports_left(conn, xinyuan, year) == 0
        assert self_reports_used(conn, xinyuan, year - 1) == 0


def test_a_beijing_year_starts_at_midnight_beijing_time() -> None:
    start, end = beijing_year(2026)
    assert start == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_the_command_line_shows_who_queried(cli: None, engine: Engine, xinyuan: int) -> None:
    with engine.begin() as conn:
        record_read(conn, _clerk(SAMR.uscc, "samr.wang"), xinyuan, what="check.run",
                    purpose="政府采购供应商资格审查")  # fmt: skip
    result = CliRunner().invoke(app, ["audit", "queries", XINYUAN.uscc, "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert (entry["dept_name"], entry["what"]) == (SAMR.name, "联合奖惩核查")
    assert entry["purpose"] == "政府采购供应商资格审查"
    table = CliRunner().invoke(app, ["audit", "queries", XINYUAN.uscc])
    assert table.exit_code == 0 and "被查询记录（1 条）" in table.stdout
    unknown = CliRunner().invoke(app, ["audit", "queries", ENV.uscc, "--json"])
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "SUBJECT_NOT_FOUND"
    bad = CliRunner().invoke(app, ["audit", "queries", XINYUAN.uscc, "--since", "昨天"])
    assert bad.exit_code == 2
