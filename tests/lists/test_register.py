"""The list register (名单目录), conflict rules and responsible persons, on real deliveries
(issue 10 items 2–4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fixtures.deliveries import HENGDA, LONGDU, SAMR, XINYUAN, codes_by_row, make_id
from sqlalchemy import Engine, select

from lists.rows import NDRC, deliver, headers, list_row
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.checks.service import run_check
from xinyong.errors import CatalogError
from xinyong.lists.models import list_entries, list_entry_persons
from xinyong.measures.catalog import Kind, Measures, load_measures, measures_dir
from xinyong.sample.datasets import Dept
from xinyong.subjects.models import subjects

STATS = Dept("11410900PY000017X3", "濮阳市统计局")
HRSS = Dept("11410900PY000009XF", "濮阳市人力资源和社会保障局")
CHECKER = Principal(role=Role.CLERK, name="env-clerk", dept_uscc="11410900PY00000577")
TODAY = date(2026, 11, 2)
# synthetic, valid check character; not a real person's number
LIU_ID = make_id("410902", date(1975, 6, 1), 317)


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


def _check(engine: Engine, catalog: Catalog, measures: Measures, code: str, matter: str):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return run_check(
            conn, catalog, measures, CHECKER, subject_code=code, matter=matter, today=TODAY
        )


def _ids(res) -> set[str]:  # type: ignore[no-untyped-def]
    return {m["id"] for m in res.measures}


def test_register_ships_the_kinds_with_sources(catalog: Catalog) -> None:
    kinds = catalog.lists.kinds
    assert {
        "SXBZX", "WAGE", "TAX", "GP", "STAT", "SAFE", "FOOD", "ENV", "CUSTOMS", "RED",
    } <= set(kinds)  # fmt: skip
    for k in kinds.values():
        assert k.basis and k.source and all(b.evidence in "VSI" for b in k.basis)
    assert kinds["WAGE"].list_class.value == "严重失信主体名单" and kinds["WAGE"].color == "black"
    assert kinds["RED"].color == "red" and kinds["WATCH"].list_class.value == "重点关注名单"
    assert [k.code for k in kinds.values() if k.publish_persons] == ["SXBZX"]
    assert catalog.lists.designated_by["STAT"] == {STATS.uscc}
    # by code, by name or alias, by 名单名称, or the dataset's only kind
    assert catalog.lists.resolve("YZSX", "wage", None) is kinds["WAGE"]
    assert catalog.lists.resolve("YZSX", "统计严重失信企业", None) is kinds["STAT"]
    assert catalog.lists.resolve("YZSX", None, "重大税收违法失信主体") is kinds["TAX"]
    assert catalog.lists.resolve("JYYC", None, None) is kinds["JYYC"]


def test_a_broken_list_file_fails_at_load_naming_it(catalog_dir: Path) -> None:
    path = catalog_dir / "lists" / "STAT.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("濮阳市统计局", "濮阳市某局"), "utf-8")
    with pytest.raises(CatalogError) as exc:
        load_catalog(catalog_dir)
    assert "STAT.yaml" in exc.value.message and "濮阳市某局" in exc.value.message
    path.write_text("code: STAT\nname: 统计\n", encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        load_catalog(catalog_dir)
    assert "STAT.yaml" in exc.value.message and "designators" in exc.value.message


def test_statistics_entry_triggers_no_wage_arrears_measures(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    hs = headers(catalog, "YZSX")
    stat = list_row(hs, XINYUAN, "濮统信〔2026〕1号", STATS, MD_MDLB="STAT", list_name="统计")
    receipt = deliver(engine, catalog, tmp_path, "YZSX", [stat], dept=STATS)
    assert receipt.rejected == 0, receipt.rejects
    wage = list_row(
        hs, HENGDA, "濮人社信〔2026〕1号", HRSS, list_name="拖欠农民工工资失信联合惩戒对象名单"
    )
    receipt = deliver(engine, catalog, tmp_path, "YZSX", [wage], dept=HRSS, name="w.csv")
    assert receipt.rejected == 0, receipt.rejects
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(select(list_entries.c.subject_id, list_entries.c.list_kind)).tuples().all()
        )
    assert sorted(kinds.values()) == ["STAT", "WAGE"]
    for matter in ("procurement", "fiscal_support", "honours"):
        stat_res = _check(engine, catalog, measures, XINYUAN.uscc, matter)
        assert "ST-WAGE-01" not in _ids(stat_res) and "ST-GP-01" not in _ids(stat_res)
        assert stat_res.hits and stat_res.hits[0]["list_kind"] == "STAT"
        assert "ST-WAGE-01" in _ids(_check(engine, catalog, measures, HENGDA.uscc, matter))
    # a joint-punishment measure of HN-Reg art. 34 reaches every serious list
    assert "HN34-1" in _ids(_check(engine, catalog, measures, XINYUAN.uscc, "procurement"))


def test_a_department_delivers_only_the_kinds_it_designates(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    hs = headers(catalog, "YZSX")
    rows = [
        list_row(hs, XINYUAN, "濮统信〔2026〕2号", STATS, MD_MDLB="WAGE"),  # 人社's list
        list_row(hs, HENGDA, "濮统信〔2026〕3号", STATS, MD_MDLB="月亮名单"),
        list_row(hs, LONGDU, "濮统信〔2026〕4号", STATS, MD_MDLB="RED"),  # a red kind
        list_row(hs, LONGDU, "濮统信〔2026〕5号", STATS, MD_MDLB="统计严重失信企业名单"),
    ]
    receipt = deliver(engine, catalog, tmp_path, "YZSX", rows, dept=STATS)
    assert codes_by_row(receipt) == {
        2: {"LIST_KIND_NOT_DESIGNATOR"},
        3: {"LIST_KIND_UNKNOWN"},
        4: {"LIST_KIND_DATASET"},
    }
    first = next(r for r in receipt.rejects if r["row"] == 2)
    assert first["field"] == "MD_MDLB" and "濮阳市人力资源和社会保障局" in first["message"]
    assert receipt.new == 1


def test_red_entry_refused_for_a_listed_subject_and_suspended_when_listed_later(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    hs, red_hs = headers(catalog, "YZSX"), headers(catalog, "SXHMD")
    deliver(engine, catalog, tmp_path, "YZSX", [list_row(hs, XINYUAN, "濮发改信〔2026〕1号", NDRC)])
    red = [
        list_row(red_hs, XINYUAN, "濮发改红〔2026〕1号", NDRC, dataset="SXHMD"),
        list_row(red_hs, HENGDA, "濮发改红〔2026〕2号", NDRC, dataset="SXHMD"),
    ]
    receipt = deliver(engine, catalog, tmp_path, "SXHMD", red, name="red.csv")
    assert codes_by_row(receipt) == {2: {"RED_LIST_CONFLICT"}}
    assert "严重失信主体名单" in receipt.rejects[0]["message"]
    assert receipt.new == 1
    # HENGDA's red entry is stored; then HENGDA is listed by 人社: the red entry is suspended
    before = _check(engine, catalog, measures, HENGDA.uscc, "licensing")
    assert "HN30-1" in _ids(before) and not before.suspended
    wage = list_row(hs, HENGDA, "濮人社信〔2026〕2号", HRSS, MD_MDLB="WAGE")
    deliver(engine, catalog, tmp_path, "YZSX", [wage], dept=HRSS, name="w.csv")
    for matter in ("licensing", "honours", "supervision"):
        after = _check(engine, catalog, measures, HENGDA.uscc, matter)
        assert not any(m["kind"] == "reward" for m in after.measures), matter
        assert after.suspended and after.suspended[0]["rule"] == "RED-BLACK-LISTED"
        assert all(h["dataset"] != "SXHMD" for h in after.hits)


def test_no_check_returns_a_reward_its_punishment_forbids(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    """LONGDU: red entry and an abnormal-operation entry (not a blocking list): for licensing
    the art. 32 punishment applies, and the red-list facilitation rewards are withheld."""
    deliver(
        engine,
        catalog,
        tmp_path,
        "SXHMD",
        [list_row(headers(catalog, "SXHMD"), LONGDU, "濮发改红〔2026〕3号", NDRC, dataset="SXHMD")],
    )
    jyyc = list_row(headers(catalog, "JYYC"), LONGDU, "濮市监异〔2026〕8号", SAMR, dataset="JYYC")
    deliver(engine, catalog, tmp_path, "JYYC", [jyyc], dept=SAMR, name="j.csv")
    for matter in sorted(measures.matters):
        res = _check(engine, catalog, measures, LONGDU.uscc, matter)
        kinds = {m["kind"] for m in res.measures}
        assert not (Kind.REWARD.value in kinds and Kind.PUNISHMENT.value in kinds), matter
    res = _check(engine, catalog, measures, LONGDU.uscc, "licensing")
    assert "HN32-1" in _ids(res)
    withheld = {w["id"]: w for w in res.withheld_rewards}
    assert "HN30-1" in withheld and withheld["HN30-1"]["rule"] == "PUNISH-REMOVES-REWARD"
    assert "HN32-1" in withheld["HN30-1"]["withheld_by"] and withheld["HN30-1"]["reason"]


def test_legal_representative_check_names_the_company(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    wage = list_row(
        headers(catalog, "YZSX"),
        XINYUAN,
        "濮人社信〔2026〕3号",
        HRSS,
        MD_MDLB="WAGE",
        MD_ZRR_ZJLX="身份证",
        MD_ZRR_ZJHM=LIU_ID,
    )
    receipt = deliver(engine, catalog, tmp_path, "YZSX", [wage], dept=HRSS)
    assert receipt.rejected == 0, receipt.rejects
    with engine.connect() as conn:
        person = conn.execute(select(subjects).where(subjects.c.id_number == LIU_ID)).one()
        linked = conn.execute(select(list_entry_persons)).one()
    assert person.name == XINYUAN.legal_rep and person.category == "自然人"
    assert linked.subject_id == person.id and linked.role == "legal_rep"
    res = _check(engine, catalog, measures, LIU_ID, "procurement")
    ids = _ids(res)
    assert "ST-WAGE-01" in ids and "HN34-1" in ids  # aimed at responsible persons
    assert "HN32-4" not in ids  # art. 32 measures are not
    via = res.hits[0]["responsible_for"]
    assert via == {
        "role": "法定代表人/主要负责人",
        "organisation": XINYUAN.name,
        "code": XINYUAN.uscc,
    }
    assert res.hits[0]["list_kind_name"] == "拖欠农民工工资失信联合惩戒对象名单"


def test_report_never_shows_a_suspended_red_entry_and_files_watch_lists_apart(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    from xinyong.reports.content import ReportKind
    from xinyong.reports.service import issue_report

    red = list_row(headers(catalog, "SXHMD"), HENGDA, "濮发改红〔2026〕5号", NDRC, dataset="SXHMD")
    deliver(engine, catalog, tmp_path, "SXHMD", [red], name="red.csv")
    watch = list_row(headers(catalog, "ZDGZ"), HENGDA, "濮人社关〔2026〕1号", HRSS, dataset="ZDGZ")
    deliver(engine, catalog, tmp_path, "ZDGZ", [watch], dept=HRSS, name="z.csv")
    wage = list_row(headers(catalog, "YZSX"), HENGDA, "濮人社信〔2026〕5号", HRSS, MD_MDLB="WAGE")
    deliver(engine, catalog, tmp_path, "YZSX", [wage], dept=HRSS, name="w.csv")
    with engine.begin() as conn:
        sid = conn.execute(select(subjects.c.id).where(subjects.c.uscc == HENGDA.uscc)).scalar()
        report = issue_report(
            conn, catalog, Principal.public("1.2.3.4"), sid, kind=ReportKind.PUBLIC
        )
    content = report.content
    by_section = {s["no"]: {d["code"] for d in s["datasets"]} for s in content["sections"]}
    assert "SXHMD" not in by_section["三"] and "YZSX" in by_section["四"]
    assert "ZDGZ" not in by_section["四"] and "ZDGZ" in by_section["九"]
    assert "守信激励对象" not in content["subject"]["tags"]
    assert any("守信激励信息已中止" in n and "RED-BLACK-LISTED" in n for n in content["notes"])


def test_bulk_check_follows_responsible_persons_like_the_single_check(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    from xinyong.checks.files import read_bulk_file, write_bulk_result
    from xinyong.checks.service import run_bulk_check

    wage = list_row(
        headers(catalog, "YZSX"),
        XINYUAN,
        "濮人社信〔2026〕4号",
        HRSS,
        MD_MDLB="WAGE",
        MD_ZRR_ZJLX="身份证",
        MD_ZRR_ZJHM=LIU_ID,
    )
    assert deliver(engine, catalog, tmp_path, "YZSX", [wage], dept=HRSS).rejected == 0
    with engine.begin() as conn:
        single = run_check(
            conn, catalog, measures, CHECKER, subject_code=LIU_ID, matter="procurement", today=TODAY
        )
        bulk = run_bulk_check(
            conn,
            catalog,
            measures,
            CHECKER,
            [(LIU_ID, None), (XINYUAN.uscc, None)],
            matter="procurement",
            name="每月核查",
            today=TODAY,
        )
        again = run_bulk_check(
            conn,
            catalog,
            measures,
            CHECKER,
            [(LIU_ID, None)],
            matter="procurement",
            name="每月核查",
            today=TODAY,
        )
    person, company = bulk.rows
    assert set(person.must + person.may) == {
        m["id"] for m in single.measures if m["kind"] == "punishment"
    }
    assert "ST-WAGE-01" in person.must + person.may and "HN32-4" not in person.must + person.may
    (via,) = person.responsible_for
    assert XINYUAN.name in via and XINYUAN.uscc in via and "拖欠农民工工资" in via
    assert "法定代表人" in via and company.responsible_for == []
    # the next bulk check of the same name sees the same hit, not a gone and a new one
    assert again.rows[0].changes == [] and again.gone_hits == 0 and again.new_hits == 0
    out = tmp_path / "result.csv"
    write_bulk_result(out, bulk.rows)
    assert XINYUAN.name in out.read_text(encoding="utf-8-sig")
    assert read_bulk_file(out)  # a result file reads back as a list of subjects
