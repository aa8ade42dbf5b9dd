"""Runs of a model: written whole and switched at commit, every past run readable, a subject's
re-run amending the current run; ``daily`` reruns only models whose inputs changed; models with
a mistake refused at load naming file, indicator and problem; the explanation and what would
change; monitoring with PSI; the command line. Both databases."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, update
from typer.testing import CliRunner

from evaluation.rows import TODAY, company, listing, record
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.cli import app
from xinyong.errors import CatalogError, NotFound
from xinyong.evaluation import service
from xinyong.evaluation.definitions import load_models, model_book
from xinyong.evaluation.monitor import psi
from xinyong.evaluation.runs import current_run, rerun_subject, result_of, run_model
from xinyong.jobs import run_daily
from xinyong.records.models import records
from xinyong.subjects.models import subjects

OPERATOR = Principal(role=Role.OPERATOR, name="test-operator")


def full_run(conn: Connection, catalog: Catalog, on: date = TODAY) -> int:
    with conn.begin():
        return run_model(conn, catalog, model_book(catalog).get("QYGGXY"), as_of=on, actor="t").id


def test_a_run_is_visible_only_when_committed_and_past_runs_stay(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        c = company(conn)
    first = full_run(conn, catalog)
    with conn.begin():
        record(conn, c, "XZCF", klass="严重")
    # a run that fails half-way (here: rolled back after its insert) leaves nothing behind
    tx = conn.begin()
    run_model(conn, catalog, model_book(catalog).get("QYGGXY"), as_of=TODAY, actor="t")
    tx.rollback()
    with conn.begin():
        assert current_run(conn, "QYGGXY").id == first
        assert result_of(conn, "QYGGXY", c).grade == "A"
    second = full_run(conn, catalog)
    with conn.begin():
        assert current_run(conn, "QYGGXY").id == second
        assert result_of(conn, "QYGGXY", c).grade == "B"
        assert result_of(conn, "QYGGXY", c, run_id=first).grade == "A"  # the past run


def test_a_subject_rerun_amends_the_current_run_for_it_alone(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        c, other = company(conn), company(conn)
        rid = record(conn, c, "XZCF", klass="严重")
    base = full_run(conn, catalog)
    with conn.begin():
        conn.execute(update(records).where(records.c.id == rid).values(state="已修复"))
        rerun_subject(conn, catalog, model_book(catalog).get("QYGGXY"), c, actor="t")
    with conn.begin():
        assert current_run(conn, "QYGGXY").id == base
        assert result_of(conn, "QYGGXY", c).grade == "A"
        assert result_of(conn, "QYGGXY", c, run_id=base).grade == "B"
        assert result_of(conn, "QYGGXY", other).run.id == base


def test_daily_reruns_only_models_whose_inputs_changed(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
        # a licence only the enterprise model reads
        record(conn, c, "XZXK", until=TODAY + timedelta(days=2))
    with conn.begin():
        first = run_daily(conn, as_of=TODAY, actor="t")
    every = len(model_book(catalog).models)
    assert first.steps["evaluation.rerun"]["models_run"] == every  # never run: all
    with conn.begin():
        again = run_daily(conn, as_of=TODAY + timedelta(days=1), actor="t")
    assert again.steps["evaluation.rerun"]["models_run"] == 0
    with conn.begin():
        result = result_of(conn, "QYGGXY", c)
    assert result.score == 1002
    # the record's publicity ended between runs: the enterprise model runs again, alone
    with conn.begin():
        third = run_daily(conn, as_of=TODAY + timedelta(days=4), actor="t")
    assert third.steps["evaluation.rerun"]["models_run"] == 1
    with conn.begin():
        assert result_of(conn, "QYGGXY", c).score == 1000
    with conn.begin():
        record(conn, company(conn), "XZXK")  # a new subject: every model sees it
    with conn.begin():
        fourth = run_daily(conn, as_of=TODAY + timedelta(days=5), actor="t")
    assert fourth.steps["evaluation.rerun"]["models_run"] == every


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("points: -80\n", "points: -80\n        values_field: NS_XYDJ\n"), "指标 XZCF_YZ"),
        (("classes: [严重]", "classes: [严重], fields: {CF_NOPE: [x]}"), "CF_NOPE"),
        (("match: {lists: [守信红名单]}", "match: {lists: [红名单]}"), "名单类别 红名单"),
        (
            (
                "decay: [{years: 1, factor: 1.0}, {years: 3, factor: 0.5}]",
                "decay: [{years: 3, factor: 0.5}, {years: 1, factor: 1.0}]",
            ),
            "decay",
        ),
        (("  - {code: C, label: 信用极差}", "  - {code: C, label: 信用极差, min: 1}"), "grades"),
    ],
)
def test_a_model_with_a_mistake_is_refused_naming_file_indicator_and_problem(
    catalog_dir: Path, change: tuple[str, str], named: str
) -> None:
    path = catalog_dir / "evaluation" / "QYGGXY.yaml"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_models(load_catalog(catalog_dir))
    assert str(path) in err.value.message and named in err.value.message


def test_the_explanation_names_the_records_and_what_would_change(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        c = company(conn)
        serious = record(
            conn,
            c,
            "XZCF",
            klass="严重",
            until=TODAY + timedelta(days=40),
            repair_from=TODAY + timedelta(days=10),
            data={"CF_CFLB": "罚款"},
        )
        licence = record(conn, c, "XZXK")
    full_run(conn, catalog)
    me = Principal(role=Role.SUBJECT, name="me", subject_id=c)
    with conn.begin():
        found = service.explain(conn, catalog, me, "QYGGXY", c)
    assert (found["grade"], found["class"], found["score"]) == ("B", "C", 922)
    by_code = {i["code"]: i for i in found["indicators"]}
    assert [r["record_id"] for r in by_code["XZCF_YZ"]["records"]] == [serious]
    assert [r["record_id"] for r in by_code["XZXK"]["records"]] == [licence]
    assert by_code["XZCF_YZ"]["dimension"] == "遵纪守法"
    kinds = [(ch["kind"], ch["on"], ch["grade_then"]) for ch in found["changes"]]
    assert ("expire", (TODAY + timedelta(days=41)).isoformat(), "A") in kinds
    # the public sees the grade only (the model's public block)
    with conn.begin():
        public = service.explain(conn, catalog, Principal(role=Role.PUBLIC, name="p"), "QYGGXY", c)
    assert public == {
        "model": "QYGGXY",
        "model_name": "企业公共信用综合评价",
        "as_of": TODAY.isoformat(),
        "grade": "B",
        "grade_label": "信用欠佳",
    }
    with conn.begin():
        supervision = service.supervision(conn, catalog, c)
    assert supervision[0]["class"] == "C" and supervision[0]["inspection_ratio"] == 0.15


def test_personal_points_are_not_public(conn: Connection, catalog: Catalog) -> None:
    from evaluation.rows import person

    with conn.begin():
        p = person(conn)
        run_model(conn, catalog, model_book(catalog).get("GRXYJF"), as_of=TODAY, actor="t")
    with conn.begin(), pytest.raises(NotFound, match="仅本人"):
        service.explain(conn, catalog, Principal(role=Role.PUBLIC, name="p"), "GRXYJF", p)


def test_monitoring_counts_grades_by_industry_and_district_with_psi(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        made = [company(conn) for _ in range(6)]
        for n, c in enumerate(made):
            record(
                conn,
                c,
                "FRJC",
                data={"DJ_HYDM": "C2614" if n < 4 else "F5212", "DJ_ZCDZ_XZQH": "410902"},
            )
    full_run(conn, catalog)
    with conn.begin():
        for c in made[:3]:
            listing(conn, c, "YZSX", "HN33")
    full_run(conn, catalog)
    with conn.begin():
        dist = service.monitor(conn, catalog, OPERATOR, "QYGGXY")
    assert dist.overall == {"A": 3, "C": 3}
    assert dist.by["industry"]["C"] == {"A": 1, "C": 3}
    assert dist.by["district"]["410902"] == {"A": 3, "C": 3}
    assert dist.psi is not None and dist.psi > 0.25
    assert any("PSI" in a for a in dist.alerts)
    assert dist.psi_by["industry"]["F"] == pytest.approx(0.0)


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() -> None:
    grades = ["A", "B", "C"]
    assert psi({"A": 5, "B": 5}, {"A": 50, "B": 50}, grades) == pytest.approx(0.0)
    small = psi({"A": 55, "B": 45}, {"A": 50, "B": 50}, grades)
    large = psi({"A": 20, "B": 80}, {"A": 50, "B": 50}, grades)
    assert small is not None and large is not None and 0 < small < 0.1 < large


def test_the_command_line_runs_and_shows(cli: None, conn: Connection) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "XZCF", klass="一般")
        code = conn.execute(subjects.select().where(subjects.c.id == c)).one().uscc
    runner = CliRunner()
    ran = runner.invoke(app, ["evaluate", "QYGGXY", "--as-of", "2026-12-01", "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["as_of"] == "2026-12-01"
    shown = runner.invoke(
        app, ["evaluate", "show", "QYGGXY", code, "--purpose", "日常监管", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert found["grade"] == "BBB" and found["score"] == 980
    assert any(i["code"] == "XZCF_YB" and i["points"] == -20 for i in found["indicators"])
    text = runner.invoke(app, ["evaluate", "show", "QYGGXY", code, "--purpose", "日常监管"])
    assert "一般行政处罚" in text.output
    unknown = runner.invoke(app, ["evaluate", "NOPE", "--json"])
    assert unknown.exit_code == 2 and "EVAL_MODEL_UNKNOWN" in unknown.output
    monitor = runner.invoke(app, ["evaluate", "monitor", "QYGGXY"])
    assert monitor.exit_code == 0 and "等级分布" in monitor.output
