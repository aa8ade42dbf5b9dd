"""The measures list as shipped, and the loader's errors for a broken one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.errors import CatalogError, XinyongError
from xinyong.measures.catalog import Kind, Obligation, load_measures, measures_dir


def test_shipped_list_has_henan_and_national_measures(catalog: Catalog) -> None:
    m = load_measures(measures_dir(catalog), catalog)
    ids = set(m.measures)
    assert {f"HN30-{i}" for i in range(1, 9)} <= ids
    assert {f"HN32-{i}" for i in range(1, 8)} <= ids
    assert {f"HN34-{i}" for i in range(1, 10)} <= ids
    assert {"BL21-M01-R01", "BL21-M01-R02", "ST-CONS-01", "GF33-RQSL"} <= ids
    assert {me.category for me in m.measures.values() if me.list == "national_basic"} == {1, 2, 3}
    hn344 = m.measure("HN34-4")
    assert hn344.kind is Kind.PUNISHMENT and hn344.obligation is Obligation.MUST
    assert hn344.basis_text() == "《河南省社会信用条例》第34条第（四）项"
    assert "high_consumption" in hn344.matters
    # the red list and three clean years both trigger the 33号 facilitation measures
    rqsl = m.measure("GF33-RQSL")
    assert rqsl.kind is Kind.REWARD
    assert {t.lists for t in rqsl.triggers} == {("RED",), ()}
    assert any(t.clean_years == 3 for t in rqsl.triggers)


def test_matters_by_code_or_name_and_unknown(catalog: Catalog) -> None:
    m = load_measures(measures_dir(catalog), catalog)
    assert m.matter("行政许可").code == "licensing"
    assert m.matter("PROCUREMENT").name == "政府采购"
    with pytest.raises(XinyongError) as exc:
        m.matter("买菜")
    assert exc.value.code == "MATTER_UNKNOWN"
    for_licensing = {x.id for x in m.for_matter("licensing", date(2026, 11, 1))}
    assert "HN32-1" in for_licensing and "HN34-4" not in for_licensing


def test_implementers_resolve_to_departments(catalog: Catalog) -> None:
    m = load_measures(measures_dir(catalog), catalog)
    depts = catalog.seed_departments
    court = next(d.uscc for d in depts.values() if d.name == "濮阳市中级人民法院")
    assert m.depts_of(m.measure("ST-CONS-01"), depts) == (court,)
    # every department that submits 行政许可 is a licensing authority
    licensing = set(m.depts_of(m.measure("HN32-1"), depts))
    assert {d.uscc for d in depts.values() if "XZXK" in d.datasets} <= licensing
    assert "公共资源交易管理部门" in m.unresolved_implementers(depts)


def _broken(catalog_dir: Path, text: str) -> CatalogError:
    (catalog_dir / "measures" / "zz_local.yaml").write_text(text, encoding="utf-8")
    cat = load_catalog(catalog_dir)
    with pytest.raises(CatalogError) as exc:
        load_measures(measures_dir(cat), cat)
    return exc.value


MEASURE = """
measures:
  - id: PY-1
    list: local
    kind: punishment
    obligation: may
    content: 测试措施
    target: 失信主体
    means: 限制
    implementers: [行政许可机关]
    basis: [{instrument: 河南省社会信用条例, article: "32"}]
    triggers: [{dataset: %s}]
    matters: [%s]
    evidence: I
"""


def test_broken_files_name_file_and_measure(catalog_dir: Path) -> None:
    err = _broken(catalog_dir, MEASURE % ("NOPE", "licensing"))
    assert "zz_local.yaml" in err.message and "PY-1" in err.message and "NOPE" in err.message
    err = _broken(catalog_dir, MEASURE % ("XZCF", "shopping"))
    assert "shopping" in err.message
    err = _broken(
        catalog_dir,
        MEASURE.replace("obligation: may", "obligation: perhaps") % ("XZCF", "licensing"),
    )
    assert "PY-1" in err.message and "obligation" in err.message
    err = _broken(catalog_dir, MEASURE.replace("id: PY-1", "id: HN30-1") % ("XZCF", "licensing"))
    assert "重复" in err.message


def test_a_list_dataset_never_triggers_whole_and_kinds_must_exist(catalog_dir: Path) -> None:
    err = _broken(catalog_dir, MEASURE % ("YZSX", "licensing"))
    assert "zz_local.yaml" in err.message and "PY-1" in err.message
    assert "名单类别" in err.message
    text = MEASURE.replace("triggers: [{dataset: %s}]", "triggers: [{lists: [NOPE_KIND]}]")
    err = _broken(catalog_dir, text.replace("matters: [%s]", "matters: [licensing]"))
    assert "zz_local.yaml" in err.message and "NOPE_KIND" in err.message
    text = MEASURE.replace("triggers: [{dataset: %s}]", "triggers: [{classes: [黑名单]}]")
    err = _broken(catalog_dir, text.replace("matters: [%s]", "matters: [licensing]"))
    assert "黑名单" in err.message


def test_wage_arrears_measures_trigger_on_the_wage_list_only(catalog: Catalog) -> None:
    m = load_measures(measures_dir(catalog), catalog)
    assert [t.lists for t in m.measure("ST-WAGE-01").triggers] == [("WAGE",)]
    assert m.measure("ST-WAGE-01").responsible_persons
    hn34 = m.measure("HN34-1").triggers[0].lists
    assert {"WAGE", "STAT", "SXBZX", "TAX"} <= set(hn34) and "RED" not in hn34
    assert "WATCH" not in hn34 and "JYYC" not in hn34
