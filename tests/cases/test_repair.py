"""Credit repair on both databases, through real deliveries: eligibility by rule generation
(NDRC Order 36 / SAMR Order 107 dates, never for SAMR art. 14 penalties and the courts' list,
not 失信 at all for a licence), the application with its signed commitment and proof, the
department's decision (approval: the record is 已修复, leaves public view, stops triggering
measures, goes out as a record.repaired event; rejection with reasons, then a new application),
refusals (another subject's record, too early, another department, a closed case), and the
`xinyong repair` commands."""

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
from xinyong.cases import repair
from xinyong.cases.service import Case
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_check
from xinyong.cli import app
from xinyong.clock import CHINA, Clock, FixedClock
from xinyong.disclosure import repair as rules
from xinyong.disclosure import visible_records
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.notifications.models import notification_events
from xinyong.records import states
from xinyong.records.models import records
from xinyong.sample.datasets import PENALTY_HEADERS
from xinyong.workdays.calendar import WorkCalendar, work_calendar

ROOT = Path(__file__).resolve().parents[2]
OLD = "濮市监罚决字〔2026〕00201号"  # decided 2026-05-10: 一般, repairable from 2026-08-10
NEW = "濮市监罚决字〔2026〕00311号"  # decided 2026-10-15: repairable from 2027-01-15
REVOKED = "濮市监罚决字〔2026〕00415号"  # 吊销 by market regulation: never (SAMR art. 14)
SAMR_CLERK = Principal(role=Role.CLERK, name="samr-clerk", dept_uscc=SAMR.uscc, source="t")
NDRC_CLERK = Principal(role=Role.CLERK, name="ndrc-clerk", dept_uscc=NDRC.uscc, source="t")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEADERS = [*PENALTY_HEADERS, "暂扣或吊销证照名称及编号"]
PROOF = [case_files.Upload("缴款凭证.png", PNG)]


@pytest.fixture
def clock() -> Clock:
    return FixedClock(datetime(2026, 12, 7, 10, tzinfo=CHINA).astimezone(UTC))


@pytest.fixture
def cal() -> WorkCalendar:
    return work_calendar(ROOT / "catalog" / "calendar")


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


@pytest.fixture
def recs(engine: Engine, catalog: Catalog, tmp_path: Path) -> dict[str, dict[str, Any]]:
    rows = [
        # 暂扣许可证件: 一般 (3 months), and a 较重行政处罚 that triggers measures
        penalty(
            XINYUAN,
            OLD,
            处罚类别="暂扣许可证件",
            处罚内容="暂扣食品经营许可证三个月",
            **{"暂扣或吊销证照名称及编号": "食品经营许可证 JY14109020012345"},
            **{"罚款金额（万元）": ""},
            处罚决定日期="2026/05/10",
            处罚有效期="2026/08/10",
        ),
        penalty(XINYUAN, NEW, 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15"),
        penalty(
            XINYUAN,
            REVOKED,
            处罚类别="吊销许可证件",
            处罚内容="吊销营业执照",
            **{"暂扣或吊销证照名称及编号": "营业执照 91410902MA9XKD2L"},
            **{"罚款金额（万元）": ""},
            处罚决定日期="2026/05/20",
            处罚有效期="2029/05/20",
        ),
        penalty(
            HENGDA, "濮市监罚决字〔2026〕9号", 处罚决定日期="2026/05/10", 处罚有效期="2027/05/10"
        ),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "p.csv", rows, HEADERS))
    assert receipt.rejected == 0, receipt.rejects
    return {w: record_by_wsh(engine, w) for w in (OLD, NEW, REVOKED)}


def _me(rec: dict[str, Any]) -> Principal:
    return Principal(role=Role.SUBJECT, name="xinyuan", subject_id=rec["subject_id"], source="t")


def _apply(
    conn: Connection,
    catalog: Catalog,
    cal: WorkCalendar,
    data_dir: Path,
    who: Principal,
    record_id: int,
    *,
    correction: str = "已履行",
    signed_by: str = "刘志强",
    uploads: list[case_files.Upload] = PROOF,
) -> tuple[Case, str]:
    """A repair application as the subject files it, with a signed commitment and proof."""
    return repair.apply(
        conn,
        who,
        catalog,
        cal,
        record_id,
        correction=correction,
        signed_by=signed_by,
        uploads=uploads,
        data_dir=data_dir,
    )


def test_eligibility_by_rule(engine: Engine, catalog: Catalog, recs: dict[str, Any]) -> None:
    op = Principal(role=Role.OPERATOR, name="op", source="t")
    with engine.begin() as conn:
        old = repair.record_eligibility(conn, catalog, op, recs[OLD]["id"])
        new = repair.record_eligibility(conn, catalog, op, recs[NEW]["id"])
        revoked = repair.record_eligibility(conn, catalog, op, recs[REVOKED]["id"])
    assert old.applicable_now and old.from_date == date(2026, 8, 10)
    assert old.code == rules.ELIGIBLE and "107号" in (old.rule_name or "")
    assert new.repairable and not new.applicable_now and new.from_date == date(2027, 1, 15)
    assert new.code == rules.NOT_YET and new.button() == "2027-01-15 起可申请信用修复"
    assert not revoked.repairable and revoked.code == rules.NEVER and "吊销" in revoked.reason
    # before SAMR Order 107, the generation in force on the decision date names the rule
    assert recs[NEW]["publicity_rule"] == "ndrc-36-2026"
    data = {**recs[NEW], "decision_date": date(2026, 3, 2), "publicity_rule": "ndrc-58-2023"}
    data["data"] = {**data["data"], "CF_CFJG": "濮阳市生态环境局"}
    earlier = rules.eligibility(catalog, data, date(2026, 12, 7))
    assert earlier.rule == "ndrc-58-2023" and "58号" in (earlier.rule_name or "")
    licence = rules.eligibility(catalog, {**recs[NEW], "dataset": "XZXK"}, date(2026, 12, 7))
    assert licence.code == rules.NOT_DISHONEST and not licence.repairable


def test_repair_approved_leaves_public_view_and_stops_measures(
    engine: Engine,
    catalog: Catalog,
    measures: Measures,
    cal: WorkCalendar,
    recs: dict[str, Any],
    tmp_path: Path,
) -> None:
    rec = recs[OLD]
    me = _me(rec)
    with engine.begin() as conn:
        before = run_check(
            conn, catalog, measures, SAMR_CLERK, subject_code=XINYUAN.uscc, matter="licensing"
        )
        assert any(rec["id"] in m["because_of"] for m in before.measures)
        text = repair.commitment_text(conn, rec["id"])
        assert XINYUAN.name in text and OLD in text and "信用承诺书" in text
        found, _ = _apply(
            conn,
            catalog,
            cal,
            tmp_path / "data",
            me,
            rec["id"],
            correction="已停止违法行为并完成整改，许可证暂扣期满",
        )
    assert found.case_no.startswith("XF20261207-") and found.dept_uscc == SAMR.uscc
    assert found.deadline == date(2026, 12, 16) and found.dept_deadline == date(2026, 12, 10)
    assert found.detail and found.detail["commitment"]["signed_by"] == "刘志强"
    with engine.begin() as conn:
        with pytest.raises(Conflict) as twice:
            _apply(conn, catalog, cal, tmp_path / "data", me, rec["id"], correction="x")
        assert twice.value.code == "REPAIR_OPEN"
    with engine.begin() as conn:
        closed = repair.decide(
            conn,
            SAMR_CLERK,
            catalog,
            measures,
            found.case_no,
            outcome="approved",
            reason="已纠正失信行为并履行义务，准予修复",
        )
        assert closed.outcome == "approved" and closed.closed_on_time
        state = conn.scalar(select(records.c.state).where(records.c.id == rec["id"]))
        assert state == states.REPAIRED
        after = run_check(
            conn, catalog, measures, SAMR_CLERK, subject_code=XINYUAN.uscc, matter="licensing"
        )
        # the 吊销 penalty still triggers; the repaired one no longer does
        assert not any(rec["id"] in m["because_of"] for m in after.measures)
        assert any(recs[REVOKED]["id"] in m["because_of"] for m in after.measures)
        event = conn.execute(
            select(notification_events).where(notification_events.c.kind == repair.RECORD_REPAIRED)
        ).one()
        assert (
            event.payload["record_id"] == rec["id"] and event.payload["case_no"] == closed.case_no
        )
        doc = repair.decision(conn, me, found.case_no)
        assert doc["case"].outcome_label == "准予修复" and doc["subject_name"] == XINYUAN.name
        # the public no longer sees it; the record itself stays, archived
        shown = portal_records(conn, catalog, rec["subject_id"])
        assert rec["id"] not in shown
        assert conn.scalar(select(records.c.id).where(records.c.id == rec["id"])) == rec["id"]


def portal_records(conn: Any, catalog: Catalog, subject_id: int) -> set[int]:
    from xinyong.subjects.models import subjects

    subject = dict(conn.execute(select(subjects).where(subjects.c.id == subject_id)).one()._mapping)
    public = Principal(role=Role.PUBLIC, name="public", source="t")
    return {r.id for r in visible_records(conn, catalog, public, subject, as_of=date(2026, 12, 7))}


def test_refusals_change_nothing(
    engine: Engine,
    catalog: Catalog,
    measures: Measures,
    cal: WorkCalendar,
    recs: dict[str, Any],
    tmp_path: Path,
) -> None:
    other = Principal(role=Role.SUBJECT, name="hengda", subject_id=recs[OLD]["subject_id"] + 999)
    with engine.begin() as conn:
        with pytest.raises(NotAllowed) as foreign:
            _apply(
                conn, catalog, cal, tmp_path, other, recs[OLD]["id"], correction="x", signed_by="x"
            )
        assert foreign.value.code == "REPAIR_NOT_OWN_RECORD"
        with pytest.raises(Conflict) as early:
            _apply(
                conn,
                catalog,
                cal,
                tmp_path,
                _me(recs[NEW]),
                recs[NEW]["id"],
                correction="已缴清罚款",
            )
        assert early.value.code == rules.NOT_YET and "2027-01-15" in early.value.message
        with pytest.raises(Conflict) as never:
            _apply(
                conn,
                catalog,
                cal,
                tmp_path,
                _me(recs[REVOKED]),
                recs[REVOKED]["id"],
                correction="x",
            )
        assert never.value.code == rules.NEVER
        with pytest.raises(XinyongError) as unsigned:
            _apply(
                conn,
                catalog,
                cal,
                tmp_path,
                _me(recs[OLD]),
                recs[OLD]["id"],
                correction="x",
                signed_by=" ",
            )
        assert unsigned.value.code == "REPAIR_COMMITMENT_REQUIRED"
        with pytest.raises(XinyongError) as fake:
            _apply(
                conn,
                catalog,
                cal,
                tmp_path,
                _me(recs[OLD]),
                recs[OLD]["id"],
                correction="x",
                uploads=[case_files.Upload("proof.pdf", b"MZ\x90\x00")],
            )
        assert fake.value.code == "CASE_FILE_REFUSED"
        found, _ = _apply(conn, catalog, cal, tmp_path, _me(recs[OLD]), recs[OLD]["id"])
        with pytest.raises(NotAllowed) as not_owner:
            repair.decide(
                conn, NDRC_CLERK, catalog, measures, found.case_no, outcome="approved", reason="x"
            )
        assert not_owner.value.code == "CASE_NOT_OWNER"
        with pytest.raises(NotFound):
            repair.decide(
                conn,
                SAMR_CLERK,
                catalog,
                measures,
                "XF20261207-9999",
                outcome="approved",
                reason="x",
            )
        rejected = repair.decide(
            conn,
            SAMR_CLERK,
            catalog,
            measures,
            found.case_no,
            outcome="rejected",
            reason="罚没款缴纳凭证不清晰，请重新提供",
        )
        assert rejected.outcome == "rejected"
        with pytest.raises(Conflict) as closed:
            repair.decide(
                conn, SAMR_CLERK, catalog, measures, found.case_no, outcome="approved", reason="x"
            )
        assert closed.value.code == "CASE_CLOSED"
        assert conn.scalar(select(records.c.state).where(records.c.id == recs[OLD]["id"])) == (
            states.PUBLISHED
        )
        # a new application after a rejection
        again, _ = _apply(
            conn,
            catalog,
            cal,
            tmp_path,
            _me(recs[OLD]),
            recs[OLD]["id"],
            correction="补充清晰的缴款凭证",
        )
        assert again.case_no != found.case_no and again.is_open


def test_list_entry_repaired_by_the_designating_department(
    engine: Engine, catalog: Catalog, measures: Measures, cal: WorkCalendar, tmp_path: Path
) -> None:
    row = list_row(
        headers(catalog, "JYYC"),
        XINYUAN,
        "濮市监异〔2026〕7号",
        SAMR,
        list_name="经营异常名录",
        dataset="JYYC",
    )
    receipt = deliver(engine, catalog, tmp_path, "JYYC", [row], SAMR)
    assert receipt.rejected == 0, receipt.rejects
    rec = record_by_doc(engine, "濮市监异〔2026〕7号", "JYYC")
    with engine.begin() as conn:
        elig = repair.record_eligibility(conn, catalog, _me(rec), rec["id"])
        assert elig.applicable_now and elig.decider == "designating"
        found, _ = _apply(
            conn, catalog, cal, tmp_path, _me(rec), rec["id"], correction="已补报年度报告"
        )
        assert found.target == "list_entry" and found.dept_uscc == SAMR.uscc
        repair.decide(
            conn, SAMR_CLERK, catalog, measures, found.case_no, outcome="approved", reason="已补报"
        )
        assert conn.scalar(select(records.c.state).where(records.c.id == rec["id"])) == (
            states.REPAIRED
        )
    _ = NDRC


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_repair_commands(cli: None, engine: Engine, recs: dict[str, Any], tmp_path: Path) -> None:
    res = _cli("repair", "eligibility", recs[NEW]["id"], "--json")
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["repairable"] is True and body["from"] == "2027-01-15"
    assert body["rule"] and body["reason"]
    res = _cli("repair", "eligibility", recs[REVOKED]["id"], "--json")
    assert json.loads(res.output)["repairable"] is False
    proof = tmp_path / "proof.png"
    proof.write_bytes(PNG)
    res = _cli(
        "repair",
        "apply",
        recs[NEW]["id"],
        "--correction",
        "已缴清",
        "--signed-by",
        "刘志强",
        "--file",
        proof,
        "--json",
    )
    assert res.exit_code == 2 and json.loads(res.output)["error"]["code"] == rules.NOT_YET
    res = _cli(
        "repair",
        "apply",
        recs[OLD]["id"],
        "--correction",
        "已缴清",
        "--signed-by",
        "刘志强",
        "--file",
        proof,
        "--json",
    )
    assert res.exit_code == 0, res.output
    case_no = json.loads(res.output)["case_no"]
    res = _cli(
        "repair",
        "decide",
        case_no,
        "--outcome",
        "approved",
        "--reason",
        "准予",
        "--dept",
        NDRC.uscc,
        "--json",
    )
    assert res.exit_code == 2 and json.loads(res.output)["error"]["code"] == "CASE_NOT_OWNER"
    res = _cli("cases", "decide", case_no, "--outcome", "approved", "--reason", "准予", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["state"] == "closed"
    with engine.begin() as conn:
        refused = conn.execute(
            select(audit_events).where(audit_events.c.action == "case.refused")
        ).all()
        assert len(refused) >= 2
