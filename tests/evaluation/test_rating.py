"""The rural ratings (信用户 / 信用村 / 信用乡镇, ``kind: criteria``), on both databases: every
criterion kind — an item's label, an item against a number, the ratio of two items, the share
of members meeting a condition, the share of members passing another model, no counted record
of a kind — with the thresholds of domain.md §7.5 at their edges; a village rated from its
households' results and a township from its villages'; a listing that stops counting the day
it ends; the explanation's figures; the order ``daily`` runs them in; a model file with a
mistake refused at load naming file, criterion and problem; the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select, update
from typer.testing import CliRunner

from evaluation.rows import TODAY, company, listing, person, record
from xinyong.accounts.roles import Principal, Role
from xinyong.cases import grades
from xinyong.cases.decide import decide_case
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.cli import app
from xinyong.errors import CatalogError, NotFound
from xinyong.evaluation import service
from xinyong.evaluation.definitions import load_models, model_book
from xinyong.evaluation.runs import Result, current_run, due, result_of, run_model
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.records.models import records
from xinyong.subjects.models import subjects
from xinyong.workdays.calendar import calendar_dir, work_calendar

OPERATOR = Principal(role=Role.OPERATOR, name="test-operator")
VILLAGE = "410922100201"  # 统计用区划代码: county 410922, township 100, village 201 (synthetic)
TOWNSHIP = VILLAGE[:9] + "000"


_HOUSEHOLD = {
    "NH_CJDM": VILLAGE,
    "NH_CJMC": "合成测试村",
    "NH_CZBC": "是",
    "NH_MSNL": "完全民事行为能力",
    "NH_JTNSR": "3.5",
    "NH_DKYE": "5",
    "NH_YQJE": "0",
    "NH_LSQK": "0",
    "NH_ZXBL": "无",
}


def household(conn: Connection, village: str = VILLAGE, **changes: str) -> int:
    """A household head meeting every 信用户 criterion unless ``changes`` says otherwise."""
    data = {**_HOUSEHOLD, "NH_CJDM": village, **changes}
    p = person(conn)
    record(conn, p, "NHXY", decided=date(2026, 11, 1), data=data)
    return p


def area(conn: Connection, level: str, code: str, **changes: str) -> int:
    """A village committee (行政村) or township government (乡镇) with its credit figures:
    loans 1000 (万元), NPL 40 (4 %), new NPL 5 (0.5 %) unless ``changes`` says otherwise."""
    data = {
        "XC_CJ": level,
        "XC_QHDM": code,
        "XC_QHMC": "合成测试区划",
        "XC_DKYE": "1000",
        "XC_BLDK": "40",
        "XC_XZBL": "5",
    }
    data.update(changes)
    c = company(conn)
    record(conn, c, "XCXD", decided=date(2026, 11, 1), data=data)
    return c


def rate(conn: Connection, catalog: Catalog, *codes: str, on: date = TODAY) -> None:
    if conn.in_transaction():  # a read's implicit transaction
        conn.rollback()
    with conn.begin():
        for code in codes:
            run_model(conn, catalog, model_book(catalog).get(code), as_of=on, actor="test")


def result(conn: Connection, model: str, subject: int) -> Result:
    return result_of(conn, model, subject)


def met(catalog: Catalog, model: str, found: Result) -> dict[str, bool]:
    codes = [c.code for c in model_book(catalog).get(model).indicators]
    return {c: bool(p) for c, p in zip(codes, found.points, strict=True)}


def test_a_household_meeting_every_criterion_is_a_credit_household(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        good = household(conn)
        elsewhere = household(conn, NH_CZBC="否")  # an item's label
        incapable = household(conn, NH_MSNL="限制民事行为能力")
        poor = household(conn, NH_JTNSR="0.99")  # a number at least 1
        edge = household(conn, NH_JTNSR="1")
        arrears = household(conn, NH_LSQK="0.5")  # a number at most 0
        flagged = household(conn, NH_ZXBL="有")
        unknown = household(conn)
        outsider = person(conn)  # no household record: not rated
    with conn.begin():
        conn.execute(
            update(records)
            .where(records.c.subject_id == unknown)
            .values(data={"NH_CJDM": VILLAGE, "NH_CZBC": "是"})  # income missing: not met
        )
    rate(conn, catalog, "XYH")
    assert result(conn, "XYH", good).grade == "信用户"
    assert result(conn, "XYH", good).score == 6
    assert all(met(catalog, "XYH", result(conn, "XYH", good)).values())
    assert result(conn, "XYH", edge).grade == "信用户"
    failed = {
        elsewhere: "CZBC",
        incapable: "MSNL",
        poor: "KCHSR",
        arrears: "WLSQK",
        flagged: "ZXWBL",
    }
    for subject, code in failed.items():
        found = result(conn, "XYH", subject)
        assert found.grade == "未评定信用户", code
        assert [c for c, ok in met(catalog, "XYH", found).items() if not ok] == [code]
    assert not met(catalog, "XYH", result(conn, "XYH", unknown))["KCHSR"]
    with pytest.raises(NotFound):
        result(conn, "XYH", outsider)


def test_a_listing_fails_a_household_until_it_ends(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        h = household(conn)
        listing(conn, h, "SXBZX", "SXBZX", valid_until=date(2026, 12, 20))
    rate(conn, catalog, "XYH")
    found = result(conn, "XYH", h)
    assert found.grade == "未评定信用户"
    assert [c for c, ok in met(catalog, "XYH", found).items() if not ok] == ["WSXMD"]
    rate(conn, catalog, "XYH", on=date(2026, 12, 20))  # the last day of validity
    assert result(conn, "XYH", h).grade == "未评定信用户"
    rate(conn, catalog, "XYH", on=date(2026, 12, 21))  # the day after: no longer counts
    assert result(conn, "XYH", h).grade == "信用户"


def _village(conn: Connection, code: str, good: int, bad: int, **figures: str) -> int:
    for _ in range(good):
        household(conn, code)
    for _ in range(bad):
        household(conn, code, NH_ZXBL="有")
    return area(conn, "行政村", code, **figures)


def test_a_village_is_rated_from_its_households(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        seventy = _village(conn, "410922100201", 7, 3)  # exactly 70 %
        sixty = _village(conn, "410922100202", 6, 4)
        high_npl = _village(conn, "410922100203", 8, 0, XC_BLDK="50")  # 5 %: not below
        rising = _village(conn, "410922100204", 8, 0, XC_XZBL="10")  # 1 %: not below
        # borrowers without overdue loans: 5 of 6 (83 %) < 85 %; the 2 without loans not counted
        overdue = area(conn, "行政村", "410922100205")
        for _ in range(5):
            household(conn, "410922100205")
        household(conn, "410922100205", NH_YQJE="1.2")
        for _ in range(2):
            household(conn, "410922100205", NH_DKYE="0", NH_YQJE="0")
        empty = area(conn, "行政村", "410922100206")  # no households: nothing to share
        township = area(conn, "乡镇", TOWNSHIP)  # not a village: XYC leaves it out
    rate(conn, catalog, "XYH", "XYC")
    assert result(conn, "XYC", seventy).grade == "信用村"
    assert result(conn, "XYC", seventy).district == "410922"
    cases = {
        sixty: "XYHZB",
        high_npl: "BLDKL",
        rising: "BLZL",
        overdue: "WYQZB",
    }
    for subject, code in cases.items():
        found = result(conn, "XYC", subject)
        assert found.grade == "未评定信用村", code
        assert [c for c, ok in met(catalog, "XYC", found).items() if not ok] == [code]
    assert result(conn, "XYC", empty).grade == "未评定信用村"
    with pytest.raises(NotFound):
        result(conn, "XYC", township)
    # the explanation: each criterion's figure with its counts, the threshold, met or not
    shown = service.explain(conn, catalog, OPERATOR, "XYC", sixty, purpose="日常监管")
    first = shown["criteria"][0]
    assert first["figure"] == 0.6 and first["figure_text"] == "60.0%（6/10）"
    assert first["threshold"] == "≥ 70%" and first["met"] is False
    assert shown["criteria_met"] == 3 and shown["criteria_total"] == 4
    assert shown["to_pass"] == ["信用户占农户比例≥ 70%（现为60.0%（6/10））"]
    assert shown["members"] == {"XYH": current_run(conn, "XYH").id}
    ratio = service.explain(conn, catalog, OPERATOR, "XYC", high_npl, purpose="日常监管")[
        "criteria"
    ][2]
    assert ratio["figure_text"] == "5.0%（50/1000）" and ratio["met"] is False


def test_a_township_is_rated_from_its_villages(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        town = area(conn, "乡镇", TOWNSHIP)
        _village(conn, "410922100201", 8, 2)  # 信用村
        _village(conn, "410922100202", 5, 5)  # not
        other_town = area(conn, "乡镇", "410922101000")
        _village(conn, "410922101201", 8, 2)
        _village(conn, "410922101202", 5, 5)
        _village(conn, "410922101203", 5, 5)  # 1 of 3 villages: 33 %
    rate(conn, catalog, "XYH", "XYC", "XYXZ")
    assert result(conn, "XYXZ", town).grade == "信用乡镇"
    found = result(conn, "XYXZ", other_town)
    assert found.grade == "未评定信用乡镇"
    assert [c for c, ok in met(catalog, "XYXZ", found).items() if not ok] == ["XYCZB"]
    shown = service.explain(conn, catalog, OPERATOR, "XYXZ", other_town, purpose="日常监管")
    assert shown["criteria"][0]["figure_text"] == "33.3%（1/3）"
    # no-arrears borrowers over the township's households: 34 of 35 with loans → 97 %
    assert shown["criteria"][3]["met"] is True


def test_no_arrears_borrowers_of_a_township_count_old_arrears(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        town = area(conn, "乡镇", TOWNSHIP)
        area(conn, "行政村", VILLAGE)
        for _ in range(8):
            household(conn)
        household(conn, NH_LSQK="2")  # old arrears: a borrower in arrears (and no 信用户)
        household(conn, NH_YQJE="1")  # overdue
    rate(conn, catalog, "XYH", "XYC", "XYXZ")
    shown = service.explain(conn, catalog, OPERATOR, "XYXZ", town, purpose="日常监管")
    last = shown["criteria"][3]
    assert last["figure_text"] == "80.0%（8/10）" and last["met"] is False


def test_a_rating_needs_its_members_run_first_and_daily_runs_them_in_order(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        v = _village(conn, VILLAGE, 8, 2)
    with pytest.raises(NotFound, match="XYH"):
        rate(conn, catalog, "XYC")
    conn.rollback()
    order = [m.code for m in service.in_order(model_book(catalog).models)]
    assert order.index("XYH") < order.index("XYC") < order.index("XYXZ")
    rate(conn, catalog, "XYH", "XYC")
    assert result(conn, "XYC", v).grade == "信用村"
    xyc = model_book(catalog).get("XYC")
    assert not due(conn, catalog, xyc, TODAY)
    rate(conn, catalog, "XYH")  # a new household run: the village must be rated again
    assert due(conn, catalog, xyc, date(2026, 12, 8))


def test_a_household_result_is_shown_to_the_household_only(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        h = household(conn)
        v = _village(conn, "410922100202", 8, 2)
    rate(conn, catalog, "XYH", "XYC")
    public = Principal(role=Role.PUBLIC, name="anyone")
    with pytest.raises(NotFound, match="不向社会公开"):
        service.explain(conn, catalog, public, "XYH", h)
    own = Principal(role=Role.SUBJECT, name="户主", subject_id=h)
    assert service.explain(conn, catalog, own, "XYH", h)["grade"] == "信用户"
    seen = service.explain(conn, catalog, public, "XYC", v)
    assert seen["grade"] == "信用村" and "criteria" not in seen


BROKEN: list[tuple[str, tuple[str, str], str]] = [
    ("XYH", ("value: NH_CZBC\n", "value: NH_NOPE\n"), "准则 CZBC: 数据集 NHXY 没有信息项 NH_NOPE"),
    ("XYH", ("in: [是]", "in: [也许]"), "准则 CZBC: 信息项 NH_CZBC 没有取值 也许"),
    ("XYH", ("in: [无]", "at_most: 0"), "准则 ZXWBL: 信息项 NH_ZXBL 不是数值项"),
    ("XYH", ("    at_least: 1\n", ""), "准则 KCHSR 的 (整项)"),
    ("XYC", ("rated: {model: XYH}", "rated: {model: XYZ}"), "准则 XYHZB 的 share.rated"),
    ("XYC", ("rated: {model: XYH}", "rated: {model: XYXZ}"), "循环引用"),
    (
        "XYC",
        ("ratio: {num: XC_BLDK, den: XC_DKYE}", "ratio: {num: XC_QHMC, den: XC_DKYE}"),
        "准则 BLDKL: 数据集 XCXD 没有数值信息项 XC_QHMC",
    ),
]


@pytest.mark.parametrize(("model", "change", "named"), BROKEN)
def test_a_rating_with_a_mistake_is_refused_naming_file_criterion_and_problem(
    catalog_dir: Path, model: str, change: tuple[str, str], named: str
) -> None:
    path = catalog_dir / "evaluation" / f"{model}.yaml"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_models(load_catalog(catalog_dir))
    assert named in err.value.message, err.value.message
    assert str(catalog_dir / "evaluation") in err.value.message


def test_thresholds_are_catalogue_data(conn: Connection, catalog_dir: Path) -> None:
    """An operator lowers 信用村's 70 % to 60 %: the next run reads it."""
    path = catalog_dir / "evaluation" / "XYC.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("at_least: 0.70", "at_least: 0.60"),
        encoding="utf-8",
    )
    changed = load_catalog(catalog_dir)
    with conn.begin():
        v = _village(conn, VILLAGE, 6, 4)
    rate(conn, changed, "XYH", "XYC")
    assert result(conn, "XYC", v).grade == "信用村"


def test_the_command_line_rates_and_explains(cli: None, conn: Connection) -> None:
    with conn.begin():
        v = _village(conn, VILLAGE, 6, 4)
        code = conn.execute(select(subjects.c.uscc).where(subjects.c.id == v)).scalar_one()
    runner = CliRunner()
    refused = runner.invoke(app, ["evaluate", "XYC", "--json"])
    assert refused.exit_code != 0 and "EVAL_MEMBER_NOT_RUN" in refused.output
    for model in ("XYH", "XYC"):
        ran = runner.invoke(app, ["evaluate", model, "--json"])
        assert ran.exit_code == 0, ran.output
    shown = runner.invoke(app, ["evaluate", "show", "XYC", code, "--purpose", "日常监管", "--json"])
    assert shown.exit_code == 0, shown.output
    found: dict[str, Any] = json.loads(shown.output)
    assert found["grade"] == "未评定信用村"
    assert [c["met"] for c in found["criteria"]] == [False, True, True, True]
    text = runner.invoke(app, ["evaluate", "show", "XYC", code, "--purpose", "日常监管"])
    assert "信用户占农户比例" in text.output and "60.0%（6/10）" in text.output
    assert "未达到" in text.output and "得分" not in text.output
    assert "等级 未评定信用村（未达到信用村条件）" in text.output
    monitor = runner.invoke(app, ["evaluate", "monitor", "XYC"])
    assert monitor.exit_code == 0 and "未评定信用村" in monitor.output


def test_an_objection_to_a_rating_reruns_the_household(conn: Connection, catalog: Catalog) -> None:
    """A household objects (the PBOC flag was cleared since): the credit office has it rated
    again, which amends the current run for it alone."""
    calendar = work_calendar(calendar_dir(catalog.root))
    measures = load_measures(measures_dir(catalog), catalog)
    with conn.begin():
        h = household(conn, NH_ZXBL="有")
        other = household(conn, NH_ZXBL="有")
    rate(conn, catalog, "XYH")
    me = Principal(role=Role.SUBJECT, name="户主", subject_id=h)
    with conn.begin():
        case, _ = grades.file_grade_objection(
            conn, me, calendar, catalog, model="XYH", subject_id=h, reason="不良记录已结清"
        )
    assert case.detail and case.detail["grade"] == "未评定信用户"
    with conn.begin():
        conn.execute(
            update(records)
            .where(records.c.subject_id == h, records.c.dataset == "NHXY")
            .values(data={**_HOUSEHOLD, "NH_ZXBL": "无"})
        )
        decide_case(
            conn, OPERATOR, catalog, measures, case.case_no, outcome="rerun", reason="已核实"
        )
    with conn.begin():
        assert result(conn, "XYH", h).grade == "信用户"
        assert result(conn, "XYH", other).grade == "未评定信用户"
