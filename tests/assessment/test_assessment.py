"""The monthly department assessment on both databases, from real deliveries, checks and an
objection: 双公示 timeliness counted on the working-day calendar across the National Day
holiday, acceptance with an upheld objection, regularity against each dataset's expected
period, feedback on checks, ranking with reasons, publishing the 通报, and the commands."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fixtures.deliveries import ENV, SAMR, XINYUAN, penalty, record_by_wsh, run, write_csv
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.accounts.roles import Principal, Role
from xinyong.assessment import figures
from xinyong.assessment.figures import Period
from xinyong.assessment.service import assess, publish, published, published_report
from xinyong.audit.models import audit_events
from xinyong.cases import objections
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_check
from xinyong.cli import app
from xinyong.clock import CHINA, FixedClock
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.sample.datasets import PENALTY_HEADERS
from xinyong.workdays.calendar import WorkCalendar, work_calendar

ROOT = Path(__file__).resolve().parents[2]
DELIVERED = datetime(2026, 10, 13, 10, 0, tzinfo=CHINA)  # a Tuesday after National Day
ON_TIME = "濮市监罚决字〔2026〕00929号"  # decided 29 Sep: 7th working day is 14 Oct
LATE = "濮市监罚决字〔2026〕00922号"  # decided 22 Sep: 7th working day was 9 Oct
ENV_CLERK = Principal(role=Role.CLERK, name="env-clerk", dept_uscc=ENV.uscc, source="t")
SAMR_CLERK = Principal(role=Role.CLERK, name="samr-clerk", dept_uscc=SAMR.uscc, source="t")
OPERATOR = Principal(role=Role.OPERATOR, name="op", source="t")
OCTOBER = Period.month("2026-10")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DELIVERED)


@pytest.fixture
def cal() -> WorkCalendar:
    return work_calendar(ROOT / "catalog" / "calendar")


@pytest.fixture
def october(engine: Engine, catalog: Catalog, clock: FixedClock, tmp_path: Path) -> None:
    """SAMR's October: two penalties (one on time across the holiday, one late) and a bad
    row; an ENV clerk's check that owes feedback by 27 October; an objection upheld against
    SAMR on 20 October."""
    rows = [
        penalty(XINYUAN, ON_TIME, 处罚决定日期="2026/09/29", 处罚有效期="2027/09/29"),
        penalty(XINYUAN, LATE, 处罚决定日期="2026/09/22", 处罚有效期="2027/09/22"),
        penalty(XINYUAN, "濮市监罚决字〔2026〕00999号", 处罚决定日期="2026/13/40"),
    ]
    path = write_csv(tmp_path / "十月处罚.csv", rows, PENALTY_HEADERS)
    receipt = run(engine, catalog, path, today=DELIVERED.date())
    assert (receipt.received, receipt.rejected) == (3, 1)
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕7号", NDRC)],
    )
    measures = load_measures(measures_dir(catalog), catalog)
    with engine.begin() as conn:
        res = run_check(
            conn,
            catalog,
            measures,
            ENV_CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            today=DELIVERED.date(),
        )
    assert res.deadline == date(2026, 10, 27) and res.measures
    clock.advance(timedelta(days=7))  # 20 October
    record = record_by_wsh(engine, LATE)
    me = Principal(role=Role.SUBJECT, name="xinyuan", subject_id=record["subject_id"], source="t")
    cal = work_calendar(ROOT / "catalog" / "calendar")
    with engine.begin() as conn:
        found, _ = objections.file_objection(conn, me, cal, record["id"], reason="金额有误")
    # the corrected version is delivered, then the objection decided
    fixed = penalty(
        XINYUAN,
        LATE,
        处罚决定日期="2026/09/22",
        处罚有效期="2027/09/22",
        **{"罚款金额（万元）": "0.3"},
    )
    fixed["处罚内容"] = "罚款人民币3000元"
    run(
        engine,
        catalog,
        write_csv(tmp_path / "更正.csv", [fixed], PENALTY_HEADERS),
        today=date(2026, 10, 20),
    )
    with engine.begin() as conn:
        objections.decide(conn, SAMR_CLERK, found.case_no, outcome="corrected", reason="已更正")


@pytest.mark.usefixtures("october")
def test_the_month_is_scored_ranked_and_explained(
    engine: Engine, catalog: Catalog, cal: WorkCalendar
) -> None:
    with engine.connect() as conn:
        result = assess(conn, catalog, cal, OCTOBER)
        late = figures.late_records(conn, cal, OCTOBER, ("XZXK", "XZCF"), 7, SAMR.uscc, catalog)
    by_dept = {d.uscc: d for d in result.departments}
    samr = {i.code: i for i in by_dept[SAMR.uscc].indicators}
    # across National Day: 29 Sep → 14 Oct is in time, 22 Sep → 9 Oct is not
    assert (samr["TIMELY"].good, samr["TIMELY"].total) == (1, 2)
    assert "1 条记录超过决定之日起 7 个工作日" in (samr["TIMELY"].reason or "")
    assert [(r["key"].split(" ")[0], r["due"], r["working_days"]) for r in late] == [
        (LATE, "2026-10-09", 10)
    ]
    # 3 of 4 rows stored (the correction included), less 0.02 for the upheld objection
    assert samr["ACCURATE"].rate == pytest.approx(3 / 4 - 0.02)
    assert "异议成立（予以更正）1 件" in (samr["ACCURATE"].reason or "")
    # SAMR may deliver XZCF, XZXK and FRJC monthly: only XZCF came
    assert (samr["REGULAR"].good, samr["REGULAR"].total) == (1, 3)
    assert "行政许可信息" in (samr["REGULAR"].reason or "")
    # nothing to measure: not counted, and said so
    assert samr["FEEDBACK"].rate is None and samr["FEEDBACK"].reason is None
    env = {i.code: i for i in by_dept[ENV.uscc].indicators}
    # the check's measures were owed by 27 October and never answered
    assert env["FEEDBACK"].rate == 0.0 and env["FEEDBACK"].total >= 1
    assert "未反馈" in (env["FEEDBACK"].reason or "")
    assert env["REGULAR"].rate == 0.0
    # the score weighs only what applies; ranks follow the score
    weights = {i.code: i.weight for i in by_dept[SAMR.uscc].indicators}
    applicable = [i for i in by_dept[SAMR.uscc].indicators if i.rate is not None]
    expected = 100 * sum(i.weight * (i.rate or 0) for i in applicable)
    assert by_dept[SAMR.uscc].score == round(expected / sum(weights[i.code] for i in applicable), 1)
    ranked = [d for d in result.departments if d.score is not None]
    assert [d.score for d in ranked] == sorted((d.score for d in ranked), reverse=True)
    assert ranked[0].rank == 1 and by_dept[SAMR.uscc].rank > 0
    assert all(d.rank == 0 for d in result.departments if d.score is None)


@pytest.mark.usefixtures("october")
def test_a_published_report_stays_as_published(
    engine: Engine, catalog: Catalog, cal: WorkCalendar, tmp_path: Path
) -> None:
    with engine.begin() as conn, pytest.raises(NotAllowed):
        publish(conn, SAMR_CLERK, catalog, cal, OCTOBER)
    with engine.begin() as conn:
        first = publish(conn, OPERATOR, catalog, cal, OCTOBER, note="十月考核情况通报")
    # a later delivery does not rewrite what was published
    rows = [penalty(XINYUAN, "濮市监罚决字〔2026〕01001号", 处罚决定日期="2026/10/12")]
    run(
        engine,
        catalog,
        write_csv(tmp_path / "补报.csv", rows, PENALTY_HEADERS),
        today=date(2026, 10, 20),
    )
    with engine.connect() as conn:
        shown = published_report(conn, "2026-10")
        listed = published(conn)
        again = assess(conn, catalog, cal, OCTOBER).as_dict()
        events = conn.execute(
            select(audit_events.c.actor).where(audit_events.c.action == "assessment.publish")
        ).all()
        with pytest.raises(NotFound):
            published_report(conn, "2026-09")
    assert shown["departments"] == first["departments"] and shown["note"] == "十月考核情况通报"
    assert again["departments"] != first["departments"]
    assert [p["period"] for p in listed] == ["2026-10"] and [e.actor for e in events] == ["op"]


def test_a_period_must_be_a_month() -> None:
    assert Period.month("2026-12").end == date(2027, 1, 1)
    with pytest.raises(XinyongError) as bad:
        Period.month("2026-13")
    assert bad.value.code == "ASSESSMENT_PERIOD_INVALID"


@pytest.mark.usefixtures("october", "cli")
def test_the_commands() -> None:
    runner = CliRunner()
    ranked = runner.invoke(app, ["assess", "--period", "2026-10", "--json"])
    assert ranked.exit_code == 0, ranked.output
    body = json.loads(ranked.stdout)
    assert body["period"] == "2026-10" and body["departments"][0]["rank"] == 1
    late = runner.invoke(app, ["assess", "--period", "2026-10", "--late", SAMR.uscc, "--json"])
    assert [r["decision_date"] for r in json.loads(late.stdout)["late"]] == ["2026-09-22"]
    text = runner.invoke(app, ["assess", "--period", "2026-10"], env={"COLUMNS": "300"})
    assert "按期报送率" in text.stdout and "濮阳市市场监督管理局" in text.stdout
    bad = runner.invoke(app, ["assess", "--period", "十月", "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"]["code"] == "ASSESSMENT_PERIOD_INVALID"
    published_now = runner.invoke(app, ["assess", "--period", "2026-10", "--publish", "--json"])
    assert published_now.exit_code == 0 and json.loads(published_now.stdout)["id"] >= 1
