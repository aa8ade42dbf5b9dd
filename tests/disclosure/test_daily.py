"""`xinyong daily`: records past their publicity end leave public view, archived with their
history; a second run changes nothing; every run is one audit event. Both databases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fixtures.deliveries import (
    HENGDA,
    LONGDU,
    SAMR,
    SHOP,
    XINYUAN,
    penalty,
    record_by_wsh,
    run,
    write_csv,
)
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from xinyong.accounts.roles import Principal, Role
from xinyong.audit.service import search, verify
from xinyong.catalog.loader import Catalog
from xinyong.cli import app
from xinyong.disclosure import daily
from xinyong.disclosure.view import visible_records
from xinyong.jobs import AFTER_BATCH, DAILY_STEPS, run_daily
from xinyong.records import service as records_service
from xinyong.records.models import record_versions, records
from xinyong.settings import Settings
from xinyong.subjects.service import find_subject

D = date.fromisoformat
PUBLIC = Principal(Role.PUBLIC, "public")
CLERK = Principal(Role.CLERK, "市场监管经办人", dept_uscc=SAMR.uscc)

# WSH → (decision, 处罚类别); the ends follow the rule sets (see test_publicity)
ROWS = {
    "濮市监罚决字〔2025〕00001号": ("2025/09/01", "警告"),  # GB-22 轻微: ends 2025-12-01
    "濮市监罚决字〔2025〕00002号": ("2025/09/01", "罚款"),  # GB-22 一般: ends 2026-09-01
    "濮市监罚决字〔2026〕00003号": ("2026/05/20", "罚款"),  # 2026 一般: ends 2027-05-20
    "濮市监罚决字〔2023〕00004号": ("2023/05/01", "罚款"),  # order 58: ends 2026-05-01
    "濮市监罚决字〔2025〕00005号": ("2025/09/01", "警告"),  # withdrawn
    "濮市监罚决字〔2025〕00006号": ("2025/09/01", "警告"),  # under objection
}
WSH = list(ROWS)


def _deliver(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    subjects = [XINYUAN, HENGDA, LONGDU, XINYUAN, SHOP, HENGDA]
    rows = [
        penalty(subjects[n], wsh, 处罚决定日期=d, 处罚类别=t, 处罚有效期="2099/12/31")
        for n, (wsh, (d, t)) in enumerate(ROWS.items())
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "cf.csv", rows))
    assert (receipt.new, receipt.rejected) == (len(rows), 0), receipt.rejects
    withdrawn, objected = (record_by_wsh(engine, w)["id"] for w in WSH[4:6])
    with engine.begin() as conn:
        records_service.withdraw(
            conn, withdrawn, dept_uscc=SAMR.uscc, reason="复议撤销原处罚决定", actor="测试"
        )
        # the objection workflow's state (异议中): the record waits for its decision
        conn.execute(update(records).where(records.c.id == objected).values(state="异议中"))


def _states(engine: Engine) -> dict[str, str]:
    return {w: record_by_wsh(engine, w)["state"] for w in WSH}


def _history(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(record_versions)).scalar_one()


def test_expiry_archives_what_is_past_its_end(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    before = record_by_wsh(engine, WSH[0])
    with engine.begin() as conn:
        result = run_daily(conn, as_of=D("2026-09-01"), actor="测试")
    assert result.steps["publicity.expiry"] == {"expired": 2}
    assert _states(engine) == {
        WSH[0]: "期满停止公示",  # ended 2025-12-01
        WSH[1]: "公示中",  # 2026-09-01 is its last day: still shown on it
        WSH[2]: "公示中",
        WSH[3]: "期满停止公示",  # ended 2026-05-01
        WSH[4]: "已撤销",
        WSH[5]: "异议中",
    }
    after = record_by_wsh(engine, WSH[0])
    assert after["version"] == before["version"] + 1
    assert after["data"] == before["data"]  # archived, kept
    history = records_service.history
    with engine.connect() as conn:
        (old,) = history(conn, after["id"])
    assert (old["version"], old["state"], old["change"]) == (1, "公示中", "期满停止公示")
    assert old["data"] == before["data"] and old["superseded_by_batch"] is None


def test_a_second_run_changes_nothing(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    _deliver(engine, catalog, tmp_path)
    with engine.begin() as conn:
        run_daily(conn, as_of=D("2026-09-01"), actor="测试")
    states, versions = _states(engine), _history(engine)
    with engine.begin() as conn:
        again = run_daily(conn, as_of=D("2026-09-01"), actor="测试")
    assert again.steps["publicity.expiry"] == {"expired": 0}
    assert (_states(engine), _history(engine)) == (states, versions)
    with engine.begin() as conn:
        next_day = run_daily(conn, as_of=D("2026-09-02"), actor="测试")
    assert next_day.steps["publicity.expiry"] == {"expired": 1}
    assert record_by_wsh(engine, WSH[1])["state"] == "期满停止公示"


def test_each_run_is_one_audit_event(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    _deliver(engine, catalog, tmp_path)
    for _ in range(2):
        with engine.begin() as conn:
            run_daily(conn, as_of=D("2026-09-01"), actor="cli:clerk@host", source="host")
    with engine.connect() as conn:
        events = search(conn, action="daily.run")
        assert verify(conn).ok
    # newest first; other domains' steps report beside ours
    assert [e.detail["as_of"] for e in events] == ["2026-09-01", "2026-09-01"]
    assert [e.detail["steps"]["publicity.expiry"] for e in events] == [
        {"expired": 0},
        {"expired": 2},
    ]
    assert {(e.actor, e.role, e.source) for e in events} == {("cli:clerk@host", "operator", "host")}


def test_an_expired_record_leaves_public_view_with_a_reason(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    with engine.begin() as conn:
        run_daily(conn, as_of=D("2026-09-01"), actor="测试")
    with engine.connect() as conn:
        subject = find_subject(conn, XINYUAN.uscc)
        public = visible_records(conn, catalog, PUBLIC, subject, as_of=D("2026-09-01"))
        government = visible_records(conn, catalog, CLERK, subject, as_of=D("2026-09-01"))
        itself = Principal(Role.SUBJECT, "鑫源商贸", subject_id=subject["id"])
        own = visible_records(conn, catalog, itself, subject, as_of=D("2026-09-01"))
    assert public == []  # WSH[0] expired, WSH[3] expired
    for seen in (government, own):
        assert len(seen) == 2
        for r in seen:
            assert r.state == "期满停止公示"
            assert r.public_reason == "公示期满，已停止公示"
            assert r.as_dict()["public_reason"] == "公示期满，已停止公示"


def test_steps_are_a_registry() -> None:
    assert DAILY_STEPS[0] == ("publicity.expiry", daily.expire_publicity)
    names = [name for name, _ in DAILY_STEPS]
    assert len(names) == len(set(names))
    assert all(callable(step) for _, step in DAILY_STEPS)
    assert all(callable(step) for step in AFTER_BATCH)


# -- the command line -------------------------------------------------------------------------


@pytest.mark.usefixtures("cli")
def test_the_command(engine: Engine, settings: Settings, catalog: Catalog, tmp_path: Path) -> None:
    _deliver(engine, catalog, tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["daily", "--as-of", "2026-09-01", "--json"])
    assert first.exit_code == 0, first.output
    answer = json.loads(first.stdout)
    assert answer["as_of"] == "2026-09-01"
    assert answer["steps"]["publicity.expiry"] == {"expired": 2}
    second = runner.invoke(app, ["daily", "--as-of", "2026-09-01"])
    assert second.exit_code == 0, second.output
    assert "2026-09-01" in second.stdout and "停止公示（归档保留） 0 条" in second.stdout
    # without --as-of: the clock's day in Beijing (2026-12-07), after every end above but WSH[2]'s
    third = runner.invoke(app, ["daily", "--json"])
    assert third.exit_code == 0, third.output
    assert json.loads(third.stdout)["as_of"] == settings.clock.today().isoformat() == "2026-12-07"


@pytest.mark.usefixtures("cli")
@pytest.mark.parametrize("value", ["2026-13-01", "明天", "2026/09/01"])
def test_a_bad_date_is_refused(value: str) -> None:
    result = CliRunner().invoke(app, ["daily", "--as-of", value, "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "DATE_INVALID" and value in error["message"]
