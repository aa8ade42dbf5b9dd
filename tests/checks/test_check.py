"""Single and bulk checks on real deliveries, and the feedback loop."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import HENGDA, LONGDU, SAMR, WANG, XINYUAN
from lists.rows import NDRC, deliver, headers, list_row, record_by_doc
from sqlalchemy import Engine, insert, select, update

from xinyong import clock
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.checks import feedback
from xinyong.checks.deadline import feedback_deadline
from xinyong.checks.facts import _ROW_COLS, _context, _fetch_one
from xinyong.checks.models import check_measures
from xinyong.checks.queries import check_view
from xinyong.checks.service import get_check, run_bulk_check, run_check
from xinyong.checks.single import _find_subject, _subject_and_records
from xinyong.disclosure.view import visible_records
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.lists import service as lists
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.settings import Settings
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.service import find_subject
from xinyong.workdays.calendar import calendar_dir, work_calendar

LICENSING_DEPT = "11410900PY00000577"  # 濮阳市生态环境局
CLERK = Principal(role=Role.CLERK, name="env-clerk", dept_uscc=LICENSING_DEPT, source="test")
OTHER = Principal(role=Role.CLERK, name="samr-clerk", dept_uscc=SAMR.uscc)
LISTER = Principal(role=Role.CLERK, name="ndrc", dept_uscc=NDRC.uscc)
PUBLIC = Principal.public("1.2.3.4")
TODAY = date(2026, 11, 2)


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


@pytest.fixture
def listed(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    """XINYUAN on the serious-dishonesty list, HENGDA on the red list, LONGDU on both the
    abnormal-operation list and (exited) the serious list."""
    hs = headers(catalog, "YZSX")
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [
            list_row(hs, XINYUAN, "濮发改信〔2026〕1号", NDRC),
            list_row(
                hs, LONGDU, "濮发改信〔2026〕2号", NDRC, exited_on="2026-05-01", exit_reason="期满"
            ),
        ],
    )
    deliver(
        engine,
        catalog,
        tmp_path,
        "SXHMD",
        [
            list_row(
                headers(catalog, "SXHMD"),
                HENGDA,
                "濮发改红〔2026〕1号",
                NDRC,
                list_name="诚信典型企业名单",
                dataset="SXHMD",
            ),
        ],
        name="red.csv",
    )
    deliver(
        engine,
        catalog,
        tmp_path,
        "JYYC",
        [
            list_row(headers(catalog, "JYYC"), LONGDU, "濮市监异〔2026〕8号", SAMR, dataset="JYYC"),
        ],
        dept=SAMR,
        name="jyyc.csv",
    )


def _ids(result_measures: list[dict]) -> set[str]:  # type: ignore[type-arg]
    return {m["id"] for m in result_measures}


def test_listed_subject_gets_hits_and_punishments(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None, settings: Settings
) -> None:
    with engine.begin() as conn:
        res = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            case_ref="濮环采〔2026〕7号",
            today=TODAY,
        )
    assert res.check_id is not None and res.subject is not None
    assert res.subject["uscc"] == XINYUAN.uscc
    assert [(h["dataset"], h["source_dept_name"]) for h in res.hits] == [
        ("YZSX", "濮阳市发展和改革委员会")
    ]
    assert res.hits[0]["decision_date"] == "2026-03-02" and res.hits[0]["items"]
    ids = _ids(res.measures)
    assert {"HN34-1", "HN32-4"} <= ids
    # an art. 33 listing by 发改委 (kind HN33) is no procurement or enterprise-information list
    assert not ids & {"ST-GP-01", "ST-EIPR-01", "ST-WAGE-01"}
    hn341 = next(m for m in res.measures if m["id"] == "HN34-1")
    assert hn341["obligation_label"] == "应当" and "第34条" in hn341["basis"]
    assert not any(m["kind"] == "reward" for m in res.measures)
    cal = work_calendar(calendar_dir(catalog.root))
    due = feedback_deadline(TODAY, settings.feedback_deadline_working_days, cal)
    assert res.deadline == due.day == date(2026, 11, 16) and not res.deadline_provisional
    with engine.connect() as conn:
        stored = get_check(conn, CLERK, res.check_id)
        assert {m["measure_id"] for m in stored["measures"]} == ids
        with pytest.raises(NotFound) as exc:
            get_check(conn, OTHER, res.check_id)
        assert exc.value.code == "CHECK_NOT_FOUND"


def test_red_list_and_clean_subjects_get_rewards(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None
) -> None:
    with engine.begin() as conn:
        red = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=HENGDA.uscc,
            matter="licensing",
            today=TODAY,
        )
        abnormal = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=LONGDU.uscc,
            matter="licensing",
            today=TODAY,
        )
    assert {"HN30-1", "GF33-LSTD", "GF33-RQSL"} <= _ids(red.measures)
    assert [h["dataset"] for h in red.hits] == ["SXHMD"]
    # LONGDU: the exited YZSX entry is history, the JYYC entry triggers art. 32
    assert [h["dataset"] for h in abnormal.hits] == ["JYYC"]
    assert "HN32-1" in _ids(abnormal.measures)
    assert not {"GF33-RQSL", "HN34-2"} & _ids(abnormal.measures)


def test_objection_and_repair_stop_measures(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None
) -> None:
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    with engine.begin() as conn:
        lists.mark_objection(conn, LISTER, rec["id"], open=True, reason="异议申请")
        res = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            today=TODAY,
        )
    assert res.subject_state == ["异议处理中"]
    assert res.measures == []
    stopped = {m["id"]: m["stopped_by"] for m in res.no_longer_triggered}
    assert stopped["HN34-1"] == ["异议处理中"]
    with engine.begin() as conn:
        lists.mark_objection(conn, LISTER, rec["id"], open=False, reason="异议不成立")
        lists.mark_repaired(conn, catalog, measures, LISTER, rec["id"], basis="修复")
        res = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            today=TODAY,
        )
    assert res.subject_state == ["已修复"] and res.measures == []
    assert "HN34-1" in {m["id"] for m in res.no_longer_triggered}


def test_bad_input_and_permissions(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None
) -> None:
    with engine.begin() as conn:
        with pytest.raises(XinyongError) as exc:
            run_check(conn, catalog, measures, CLERK, subject_code=XINYUAN.uscc, matter="买菜")
        assert exc.value.code == "MATTER_UNKNOWN"
        with pytest.raises(NotFound) as nf:
            run_check(
                conn, catalog, measures, CLERK, subject_code=WANG.id_number, matter="licensing"
            )
        assert nf.value.code == "SUBJECT_NOT_FOUND"
        with pytest.raises(NotAllowed):
            run_check(
                conn, catalog, measures, PUBLIC, subject_code=XINYUAN.uscc, matter="licensing"
            )
        by_name = run_check(
            conn, catalog, measures, CLERK, subject_name=XINYUAN.name, matter="licensing"
        )
    assert by_name.check_id is None
    assert [c["uscc"] for c in by_name.candidates] == [XINYUAN.uscc]


def test_feedback_rules_deadline_and_stats(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None
) -> None:
    with engine.begin() as conn:
        res = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            today=TODAY,
        )
    assert res.check_id is not None
    cid = res.check_id
    good = feedback.FeedbackItem("HN34-1", True, "A01", TODAY, "濮环采〔2026〕7号")
    bad_cases = [
        (OTHER, [good], "CHECK_NOT_FOUND"),
        (CLERK, [feedback.FeedbackItem("HN34-4", True, None, TODAY)], "FEEDBACK_MEASURE_UNKNOWN"),
        (
            CLERK,
            [good, feedback.FeedbackItem("HN32-4", False, None, TODAY)],
            "FEEDBACK_REASON_REQUIRED",
        ),
        (
            CLERK,
            [feedback.FeedbackItem("HN32-4", False, "A01", TODAY)],
            "FEEDBACK_REASON_MISMATCH",
        ),
    ]
    for who, items, code in bad_cases:
        with engine.begin() as conn, pytest.raises(XinyongError) as exc:
            feedback.give_feedback(conn, measures, who, cid, items)
        assert exc.value.code == code
    with engine.connect() as conn:  # nothing half-recorded
        assert (
            conn.execute(
                select(check_measures.c.outcome).where(check_measures.c.outcome.is_not(None))
            ).all()
            == []
        )
        overdue = feedback.overdue_checks(conn, LICENSING_DEPT, as_of=TODAY + timedelta(days=60))
        assert [o["id"] for o in overdue] == [cid]
        assert feedback.overdue_checks(conn, LICENSING_DEPT, as_of=TODAY) == []
    with engine.begin() as conn:
        feedback.give_feedback(
            conn,
            measures,
            CLERK,
            cid,
            [good, feedback.FeedbackItem("HN32-4", False, "N03", TODAY, "濮环采〔2026〕7号")],
        )
    with engine.begin() as conn:
        with pytest.raises(Conflict) as dup:
            feedback.give_feedback(conn, measures, CLERK, cid, [good])
        assert dup.value.code == "FEEDBACK_DUPLICATE"
    with engine.connect() as conn:
        stats = feedback.feedback_stats(conn)
    dept = next(r for r in stats["by_department"] if r["key"] == LICENSING_DEPT)
    assert dept["answered"] == 2 and dept["applied"] == 1
    assert dept["action_rate"] == round(1 / dept["returned"], 4)
    by_measure = {r["key"]: r for r in stats["by_measure"]}
    assert by_measure["HN34-1"]["applied"] == 1 and by_measure["HN32-4"]["applied"] == 0


def test_deadline_counts_chinese_working_days(catalog: Catalog) -> None:
    # 2026-09-30 (Wed) + 3 working days skips the National Day holiday (1–7 October) and
    # counts Saturday 10 October, an adjusted working day (调休); tests/workdays has the rest
    cal = work_calendar(calendar_dir(catalog.root))
    assert feedback_deadline(date(2026, 9, 30), 3, cal).day == date(2026, 10, 10)
    assert feedback_deadline(date(2026, 9, 30), 4, cal).day == date(2026, 10, 12)
    assert feedback_deadline(date(2026, 11, 6), 1, cal).day == date(2026, 11, 9)


def test_bulk_check_rows_and_diff(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None, tmp_path: Path
) -> None:
    rows = [
        (XINYUAN.uscc, None),
        (HENGDA.org_code, None),
        ("91410900MA00000000", None),
        (None, LONGDU.name),
        ("123", None),
        (XINYUAN.uscc, None),
    ]
    with engine.begin() as conn:
        first = run_bulk_check(
            conn,
            catalog,
            measures,
            CLERK,
            rows,
            matter="licensing",
            name="许可证持有人",
            today=TODAY,
        )
    status = [r.status for r in first.rows]
    assert status == ["已核查", "已核查", "代码无效", "仅名称（需代码）", "代码无效", "已核查"]
    assert first.rows[0].may and first.rows[1].rewards
    assert first.rows[3].candidates == [LONGDU.uscc]
    assert first.previous_id is None and all(not r.changes for r in first.rows)
    # a new listing and an objection between two runs
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), HENGDA, "濮发改信〔2026〕9号", NDRC)],
        name="more.csv",
    )
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    with engine.begin() as conn:
        lists.mark_objection(conn, LISTER, rec["id"], open=True, reason="异议")
        second = run_bulk_check(
            conn,
            catalog,
            measures,
            CLERK,
            rows,
            matter="licensing",
            name="许可证持有人",
            today=TODAY,
        )
        other = run_bulk_check(
            conn,
            catalog,
            measures,
            OTHER,
            rows,
            matter="licensing",
            name="许可证持有人",
            today=TODAY,
        )
    assert second.previous_id == first.check_id and other.previous_id is None
    assert second.new_hits == 1 and second.changed_hits >= 1
    assert any(c.startswith("状态变化") for c in second.rows[0].changes)
    assert any(c.startswith("新增命中") for c in second.rows[1].changes)
    with engine.begin() as conn, pytest.raises(XinyongError) as exc:
        run_bulk_check(conn, catalog, measures, CLERK, [], matter="licensing")
    assert exc.value.code == "BULK_EMPTY"


def test_the_state_table_decides_whether_an_objection_suspends_measures(
    engine: Engine, catalog_dir: Path, listed: None
) -> None:
    """An operator whose departments do not agree to suspend sets 异议中 to ``trigger``: the
    same objected entry then triggers the measure, and shows nowhere public when not public."""
    path = catalog_dir / "disclosure" / "states.yaml"
    table = path.read_text(encoding="utf-8")
    objected = table.index("  异议中:")
    head, rest = table[:objected], table[objected:]
    block, tail = rest.split("  已修复:", 1)
    block = block.replace("measures: suspend", "measures: trigger")
    block = block.replace("public: true", "public: false").replace("marked: true", "marked: false")
    block += "    reason: 异议处理中，暂不公示\n"
    path.write_text(head + block + "  已修复:" + tail, encoding="utf-8")
    changed = load_catalog(catalog_dir)
    measures = load_measures(measures_dir(changed), changed)
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    with engine.begin() as conn:
        lists.mark_objection(conn, LISTER, rec["id"], open=True, reason="异议申请")
        res = run_check(
            conn,
            changed,
            measures,
            CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            today=TODAY,
        )
        subject = find_subject(conn, XINYUAN.uscc)
        public = visible_records(conn, changed, PUBLIC, subject, datasets=["YZSX"], as_of=TODAY)
    assert "HN34-1" in _ids(res.measures)
    assert res.no_longer_triggered == [] and res.subject_state == []
    assert public == []


def test_the_joined_read_of_a_uscc_answers_as_the_separate_reads(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None
) -> None:
    # a check of a well-formed USCC reads the subject, its names and its records in one
    # statement; every other code, and a merged subject, as before: the same answer
    ctx = _context(catalog, measures, "procurement", TODAY)
    with engine.begin() as conn:
        xinyuan = find_subject(conn, XINYUAN.uscc)["id"]
        longdu = find_subject(conn, LONGDU.uscc)["id"]
        now = clock.now(conn)
        conn.execute(
            insert(subject_names),
            [
                {"subject_id": xinyuan, "name": n, "name_norm": n, "kind": k, "created_at": now}
                for n, k in (("濮阳新源旧名有限公司", "former"), ("新源", "seen"))
            ],
        )
    codes = [XINYUAN.uscc, LONGDU.uscc, HENGDA.uscc, XINYUAN.uscc[8:17]]

    def both(code: str) -> tuple[object, object]:
        with engine.connect() as conn:
            joined, rows = _subject_and_records(conn, ctx, code)
            subject = _find_subject(conn, code)
            separate = _fetch_one(conn, ctx, subject["id"])

        def facts(found: list[Any]) -> list[tuple[object, ...]]:
            # the columns Core reads (a joined row also has ``via``, None for its own records)
            return sorted(tuple(getattr(r, c.key) for c in _ROW_COLS) for r in found)

        assert all(getattr(r, "via", None) is None for r in rows)
        return (joined, facts(rows)), (subject, facts(separate))

    for code in codes:
        joined, separate = both(code)
        assert joined == separate, code
    names = both(XINYUAN.uscc)[0][0]["names"]  # type: ignore[index]
    assert sorted(n["name"] for n in names) == ["新源", "濮阳新源旧名有限公司"]
    # a subject merged into another is answered with the one it was merged into
    with engine.begin() as conn:
        conn.execute(update(subjects).where(subjects.c.id == xinyuan).values(merged_into=longdu))
    joined, separate = both(XINYUAN.uscc)
    assert joined == separate
    assert joined[0]["id"] == longdu  # type: ignore[index]
    with engine.connect() as conn, pytest.raises(NotFound):
        _subject_and_records(conn, ctx, "91410900MA0000000X")


def test_a_bulk_check_keeps_what_a_single_check_keeps_of_its_hits_and_measures(
    engine: Engine, catalog: Catalog, measures: Measures, listed: None
) -> None:
    # the list kind of each hit and which entries triggered each measure, stored alike for
    # the same subject checked alone and in a list
    codes = [XINYUAN.uscc, HENGDA.uscc, LONGDU.uscc]
    with engine.begin() as conn:
        bulk = run_bulk_check(
            conn,
            catalog,
            measures,
            CLERK,
            [(c, None) for c in codes],
            matter="procurement",
            today=TODAY,
        )
        singles = [
            run_check(
                conn, catalog, measures, CLERK, subject_code=c, matter="procurement", today=TODAY
            )
            for c in codes
        ]
    with engine.begin() as conn:
        stored = get_check(conn, CLERK, bulk.check_id)
        alone = [get_check(conn, CLERK, s.check_id) for s in singles]  # type: ignore[arg-type]

    def kept(hits: list[dict], measures: list[dict]) -> tuple[object, object]:  # type: ignore[type-arg]
        return (
            sorted((h["subject_id"], h["record_id"], h["list_kind"], h["via"]) for h in hits),
            sorted(
                (m["subject_id"], m["measure_id"], tuple(m["because_of"] or ())) for m in measures
            ),
        )

    assert stored["measures"] and all(m["because_of"] is not None for m in stored["measures"])
    assert any(h["list_kind"] for h in stored["hits"])
    assert kept(stored["hits"], stored["measures"]) == kept(
        [h for c in alone for h in c["hits"]], [m for c in alone for m in c["measures"]]
    )
    with engine.connect() as conn:
        assert check_view(conn, catalog, measures, stored)["measures_recorded"]
