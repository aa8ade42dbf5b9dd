"""Objections to a grade (评价异议, a case kind): the subject files one naming the model, the
credit office has it scored again (the subject's re-run amends the current run: its pages and
checks read the new grade) or keeps it, with a reason; both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, update

from evaluation.rows import TODAY, company, record
from xinyong.accounts.roles import Principal, Role
from xinyong.cases import grades
from xinyong.cases.decide import decide_case
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotAllowed, XinyongError
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import result_of, run_model
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.records.models import records
from xinyong.workdays.calendar import calendar_dir, work_calendar

OPERATOR = Principal(role=Role.OPERATOR, name="信用办")


def test_an_objection_leads_to_a_rerun_for_the_subject(conn: Connection, catalog: Catalog) -> None:
    calendar = work_calendar(calendar_dir(catalog.root))
    measures = load_measures(measures_dir(catalog), catalog)
    with conn.begin():
        c, other = company(conn), company(conn)
        rid = record(conn, c, "XZCF", klass="严重")
        run_model(conn, catalog, model_book(catalog).get("QYGGXY"), as_of=TODAY, actor="t")
    me = Principal(role=Role.SUBJECT, name="me", subject_id=c)
    with conn.begin():
        case, _ = grades.file_grade_objection(
            conn, me, calendar, catalog, model="QYGGXY", subject_id=c, reason="该处罚已纠正"
        )
    assert case.case_no.startswith("PJ") and case.detail and case.detail["grade"] == "B"
    with conn.begin(), pytest.raises(XinyongError, match="未办结的异议"):
        grades.file_grade_objection(
            conn, me, calendar, catalog, model="QYGGXY", subject_id=c, reason="再提一次"
        )
    with conn.begin(), pytest.raises(NotAllowed):
        grades.file_grade_objection(
            conn, me, calendar, catalog, model="QYGGXY", subject_id=other, reason="替别人"
        )
    # meanwhile the record was repaired: the re-run reads it as not counting
    with conn.begin():
        conn.execute(update(records).where(records.c.id == rid).values(state="已修复"))
        closed = decide_case(
            conn, OPERATOR, catalog, measures, case.case_no, outcome="rerun", reason="已修复"
        )
    assert closed.outcome == "rerun"
    with conn.begin():
        assert result_of(conn, "QYGGXY", c).grade == "A"
        assert result_of(conn, "QYGGXY", other).grade == "A"
    # kept: a second objection, upheld, changes nothing
    with conn.begin():
        again, _ = grades.file_grade_objection(
            conn, me, calendar, catalog, model="QYGGXY", subject_id=c, reason="仍有异议"
        )
        kept = decide_case(
            conn, OPERATOR, catalog, measures, again.case_no, outcome="upheld", reason="依据无误"
        )
    assert kept.outcome == "upheld"
