"""The shipped datasets say what a department clerk expects: the natural key, the subject
block and the required items of each, the shared list columns, and departments whose codes are
valid. A filled-in row of every dataset passes the ingest row checker."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset, Disclosure, ItemType, Nature, RuleKind
from xinyong.codes import check_uscc, division_known
from xinyong.ingest.columns import header_key
from xinyong.ingest.rows import RowChecker

CATEGORIES = {f"C{n:02d}" for n in range(1, 14)}
SUBJECT_CATEGORIES = {"法人及非法人组织", "自然人", "个体工商户"}
LISTS = ("SXHMD", "YZSX", "SXBZX", "JYYC", "ZDGZ")


def required(ds: Dataset) -> set[str]:
    return {i.code for i in ds.items if i.required}


def conditional(ds: Dataset) -> set[str]:
    return {i.code for i in ds.items if i.required_when}


# -- what every dataset must have ------------------------------------------------------------


def test_every_dataset_has_the_henan_attributes(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        assert ds.provider and ds.update_cycle and ds.subject_types, ds.code
        assert set(ds.subject_types) <= SUBJECT_CATEGORIES, ds.code
        assert ds.category in CATEGORIES, ds.code
        assert ds.legal_basis, ds.code


def test_every_dataset_names_its_source_department(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        assert ds.source_dept_code is not None, ds.code
        item = ds.item(ds.source_dept_code)
        assert item.type is ItemType.USCC and item.required, ds.code
        assert item.code.endswith("SJLYDM") or item.code == "XK_LYDWDM", ds.code


def test_headers_are_unambiguous(catalog: Catalog) -> None:
    """No header spelling (name, code or alias, as the ingest reader normalises it) points at
    two items of one dataset."""
    for ds in catalog.datasets.values():
        seen: dict[str, str] = {}
        for item in ds.items:
            for spelling in {item.code, item.name, *item.aliases}:
                key = header_key(spelling)
                assert seen.setdefault(key, item.code) == item.code, (ds.code, spelling)


def test_id_numbers_are_masked_and_paired_with_a_type(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        for item in ds.items:
            if item.type is ItemType.ID_NUMBER:
                assert item.mask, (ds.code, item.code)
                assert item.id_type_field, (ds.code, item.code)
                labels = {o.label for o in ds.item(item.id_type_field).enum}
                assert "身份证" in labels  # the label the ingest code checks 18-digit IDs for


def test_conditions_name_real_enum_values(catalog: Catalog) -> None:
    """A typo in `in: [...]` would make an item silently never required."""
    for ds in catalog.datasets.values():
        for item in ds.items:
            for cond in item.required_when:
                other = ds.item(cond.field)
                values = cond.in_ or cond.contains
                if values:
                    assert set(values) <= {o.label for o in other.enum}, (ds.code, item.code)


def test_rules_compare_dates(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        for rule in ds.rules:
            if rule.kind is RuleKind.DATE_ORDER:
                assert rule.before and rule.after
                assert ds.item(rule.before).type is ItemType.DATE, ds.code
                assert ds.item(rule.after).type is ItemType.DATE, ds.code


def test_subject_blocks_are_consistent(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        sub = ds.subject
        assert ds.item(sub.name).required, ds.code
        if sub.category:
            cat = ds.item(sub.category)
            assert cat.type is ItemType.ENUM and cat.required, ds.code
            assert {o.label for o in cat.enum} <= SUBJECT_CATEGORIES, ds.code
        else:
            assert sub.default_category in SUBJECT_CATEGORIES, ds.code
        if sub.uscc:
            assert ds.item(sub.uscc).type in (ItemType.USCC, ItemType.TAXPAYER_NO), ds.code
        if sub.id_number:
            assert ds.item(sub.id_number).id_type_field == sub.id_type, ds.code
        if "自然人" in ds.subject_types:
            assert sub.id_number, ds.code  # persons are matched by their ID number


# -- dataset by dataset ----------------------------------------------------------------------


def test_xzxk(catalog: Catalog) -> None:
    ds = catalog.dataset("XZXK")
    assert ds.natural_key == ("XK_WSH", "XK_XKJGDM", "subject")
    assert (ds.nature, ds.disclosure) == (Nature.BASIC, Disclosure.PUBLIC)
    assert (ds.source_dept_code, ds.decision_date) == ("XK_LYDWDM", "XK_JDRQ")
    assert ds.subject.model_dump(exclude_none=True) == {
        "name": "XK_XDR_MC", "category": "XK_XDR_LB", "uscc": "XK_XDR_SHXYM",
        "reg_no": "XK_XDR_GSZC", "org_code": "XK_XDR_ZZJG", "tax_no": "XK_XDR_SWDJ",
        "id_type": "XK_XDR_ZJLX", "id_number": "XK_XDR_ZJHM",
    }  # fmt: skip
    assert {
        "XK_XDR_MC", "XK_XDR_LB", "XK_XKWS", "XK_WSH", "XK_XKLB", "XK_NR", "XK_JDRQ",
        "XK_YXQZ", "XK_YXQZI", "XK_XKJG", "XK_XKJGDM", "XK_LYDW", "XK_LYDWDM",
    } == required(ds)  # fmt: skip
    assert {"XK_XDR_SHXYM", "XK_FRDB", "XK_XDR_ZJLX", "XK_XDR_ZJHM"} == conditional(ds)
    kinds = ds.item("XK_XKLB").enum
    assert [f"{o.code} {o.label}" for o in kinds] == [
        "01 普通", "02 特许", "03 认可", "04 核准", "05 登记", "06 其他",
    ]  # fmt: skip
    assert [o.label for o in ds.item("XK_ZT").enum] == ["有效", "无效"]
    assert "2099/12/31" in ds.item("XK_YXQZI").description
    assert any(r.before == "XK_YXQZ" and r.after == "XK_YXQZI" for r in ds.rules)
    # the headers real files use
    assert "申请人" in ds.item("XK_XDR_MC").aliases
    assert "行政许可决定书文号" in ds.item("XK_WSH").aliases
    assert ds.item("XK_JDRQ").name == "许可决定日期"


def test_frjc(catalog: Catalog) -> None:
    ds = catalog.dataset("FRJC")
    assert ds.natural_key == ("subject",)
    assert ds.nature is Nature.BASIC and ds.disclosure is Disclosure.PUBLIC
    assert ds.subject.model_dump(exclude_none=True) == {
        "name": "DJ_JGMC", "default_category": "法人及非法人组织", "uscc": "DJ_SHXYM",
        "org_code": "DJ_ZZJG", "reg_no": "DJ_ZCH", "former_names": "DJ_CYM", "status": "DJ_DJZT",
    }  # fmt: skip
    assert {"DJ_SHXYM", "DJ_JGMC", "DJ_SJLY", "DJ_SJLYDM"} == required(ds)
    capital = ds.item("DJ_ZCZB")
    assert (capital.type, capital.unit) == (ItemType.DECIMAL, "万元")
    assert ds.item("DJ_LXDH").mask and ds.item("DJ_FR_ZJHM").mask
    assert [o.label for o in ds.item("DJ_DJZT").enum] == [
        "存续",
        "在业",
        "吊销",
        "注销",
        "迁出",
        "撤销",
    ]
    assert ds.item("DJ_ZCH").type is ItemType.REG_NO


@pytest.mark.parametrize("code", LISTS)
def test_lists_share_their_columns(catalog: Catalog, code: str) -> None:
    ds = catalog.dataset(code)
    assert ds.list_kind in {"red", "black", "watch", "abnormal"}
    expected_nature = Nature.TRUSTWORTHY if ds.list_kind == "red" else Nature.DISHONEST
    assert ds.nature is expected_nature
    assert ds.disclosure is Disclosure.PUBLIC
    assert (ds.subject.name, ds.subject.category, ds.subject.uscc) == (
        "MD_ZTMC",
        "MD_ZTLB",
        "MD_SHXYM",
    )
    assert (ds.source_dept_code, ds.decision_date) == ("MD_SJLYDM", "MD_LRRQ")
    shared = {
        "MD_RDBM", "MD_RDBMDM", "MD_RDYJ", "MD_LRSY", "MD_WSH", "MD_YXQZ",
        "MD_TCRQ", "MD_TCYY", "MD_ZRR", "MD_ZRR_ZJHM", "MD_SJLY", "MD_SJLYDM",
    }  # fmt: skip
    assert shared <= {i.code for i in ds.items}
    entry = ds.item("MD_LRRQ")
    assert entry.type is ItemType.DATE and entry.required
    assert ds.item("MD_YXQZ").type is ItemType.DATE
    assert ds.item("MD_RDBMDM").type is ItemType.USCC and ds.item("MD_RDBMDM").required
    assert ds.item("MD_ZRR_ZJHM").mask
    # leaving a list needs a reason
    assert ds.item("MD_TCYY").required_when[0].field == "MD_TCRQ"
    orders = {(r.before, r.after) for r in ds.rules if r.kind is RuleKind.DATE_ORDER}
    assert {("MD_LRRQ", "MD_YXQZ"), ("MD_LRRQ", "MD_TCRQ")} <= orders


def test_list_kinds(catalog: Catalog) -> None:
    kinds = {code: catalog.dataset(code).list_kind for code in LISTS}
    assert kinds == {
        "SXHMD": "red", "YZSX": "black", "SXBZX": "black", "JYYC": "abnormal", "ZDGZ": "watch",
    }  # fmt: skip


@pytest.mark.parametrize("code", ["SXHMD", "YZSX", "JYYC", "ZDGZ"])
def test_designated_lists_are_keyed_by_decision(catalog: Catalog, code: str) -> None:
    ds = catalog.dataset(code)
    assert ds.natural_key == ("MD_WSH", "MD_RDBMDM", "subject")
    assert ds.item("MD_WSH").required


def test_yzsx_records_the_responsible_person(catalog: Catalog) -> None:
    ds = catalog.dataset("YZSX")
    cond = ds.item("MD_ZRR").required_when[0]
    assert (cond.field, set(cond.in_)) == ("MD_ZTLB", {"法人及非法人组织", "个体工商户"})
    assert {"MD_ZTMC", "MD_ZTLB", "MD_MDMC", "MD_RDYJ", "MD_LRSY", "MD_LRRQ"} <= required(ds)
    assert {"MD_ZJLX", "MD_ZJHM", "MD_SHXYM"} <= conditional(ds)


def test_sxbzx(catalog: Catalog) -> None:
    ds = catalog.dataset("SXBZX")
    assert ds.natural_key == ("ZX_AH", "subject")
    assert ds.item("MD_ZTMC").name == "被执行人姓名/名称"
    assert ds.item("MD_RDBM").name == "执行法院"
    assert ds.item("MD_LRRQ").name == "发布时间"
    assert ds.item("MD_LRSY").name == "失信被执行人具体情形"
    assert ds.subject.id_number == "MD_ZJHM" and ds.item("MD_ZJHM").mask
    assert {
        "MD_ZTMC", "MD_ZTLB", "MD_RDBM", "MD_RDBMDM", "ZX_ZXYJWH", "ZX_AH", "ZX_LASJ",
        "ZX_YW", "ZX_LXQK", "MD_LRSY", "MD_LRRQ", "MD_SJLY", "MD_SJLYDM",
    } == required(ds)  # fmt: skip
    assert any(r.before == "ZX_LASJ" and r.after == "MD_LRRQ" for r in ds.rules)


def test_jyyc(catalog: Catalog) -> None:
    ds = catalog.dataset("JYYC")
    names = {i.code: i.name for i in ds.items}
    assert names["MD_LRSY"] == "列入原因"
    assert names["MD_RDBM"] == "作出决定机关"
    assert (names["MD_TCYY"], names["MD_TCRQ"]) == ("移出原因", "移出日期")
    assert set(ds.subject_types) == {"法人及非法人组织", "个体工商户"}
    assert ds.subject.id_number is None and ds.subject.reg_no == "MD_GSZC"


def test_nsxy(catalog: Catalog) -> None:
    ds = catalog.dataset("NSXY")
    assert ds.natural_key == ("subject", "NS_PJND")
    assert ds.disclosure is Disclosure.GOVERNMENT and ds.nature is Nature.OTHER
    assert ds.subject.uscc == "NS_SHXYM" and ds.item("NS_SHXYM").required
    assert ds.item("NS_PJND").type is ItemType.YEAR and ds.item("NS_PJND").required
    grade = ds.item("NS_XYDJ")
    assert [o.label for o in grade.enum] == ["A"] and grade.required  # other grades: NSDJ
    assert {"NS_SHXYM", "NS_NSRMC", "NS_PJND", "NS_XYDJ", "NS_PJJG"} <= required(ds)


def test_xycn(catalog: Catalog) -> None:
    ds = catalog.dataset("XYCN")
    assert ds.nature is Nature.OTHER and ds.disclosure is Disclosure.PUBLIC
    assert [o.label for o in ds.item("CN_CNLX").enum] == [
        "审批替代型", "容缺受理型", "行业自律型", "主动型", "信用修复型",
    ]  # fmt: skip
    assert [o.label for o in ds.item("CN_LYZT").enum] == ["履约", "未履约", "履约中"]
    assert {"CN_CNSX", "CN_CNRQ", "CN_SLDW", "CN_SLDWDM"} <= required(ds)
    assert ds.natural_key == ("CN_SLDWDM", "CN_CNSX", "CN_CNRQ", "subject")
    assert ds.item("CN_WLYQK").required_when[0].in_ == ("未履约",)


def test_bzry(catalog: Catalog) -> None:
    ds = catalog.dataset("BZRY")
    assert ds.nature is Nature.TRUSTWORTHY and ds.disclosure is Disclosure.PUBLIC
    assert [o.label for o in ds.item("RY_RYJB").enum] == ["国家级", "省级", "市级", "县级"]
    assert {"RY_RYMC", "RY_SYDW", "RY_SYDWDM", "RY_SYRQ", "RY_RYJB"} <= required(ds)
    assert ds.item("RY_YXQZ").type is ItemType.DATE


def test_gzry(catalog: Catalog) -> None:
    ds = catalog.dataset("GZRY")
    assert ds.database is not None and ds.database.value == "政务"
    assert ds.subject_types == ("自然人",) and ds.subject.default_category == "自然人"
    assert ds.natural_key == ("GZ_WSH", "subject")
    assert ds.disclosure is Disclosure.GOVERNMENT and ds.nature is Nature.OTHER
    number = ds.item("GZ_ZJHM")
    assert number.required and number.mask and ds.item("GZ_ZJLX").required
    assert ds.item("GZ_DWSHXYM").type is ItemType.USCC
    assert [o.label for o in ds.item("GZ_JLLX").enum] == [
        "表彰奖励", "诚信承诺", "违法违纪", "失信记录", "其他",
    ]  # fmt: skip


# -- departments ----------------------------------------------------------------------------


def test_departments_have_valid_codes_and_known_datasets(catalog: Catalog) -> None:
    names = set()
    for dept in catalog.seed_departments.values():
        result = check_uscc(dept.uscc)
        assert result.ok, (dept.name, result.message)
        assert not result.warnings, (dept.name, result.warnings)
        assert dept.uscc.startswith("11")  # 机构编制 / 机关
        assert dept.uscc[2:8] == dept.division and division_known(dept.division)
        assert dept.datasets and set(dept.datasets) <= set(catalog.datasets)
        names.add(dept.name)
    assert len(names) == len(catalog.seed_departments)


def test_every_dataset_has_a_department(catalog: Catalog) -> None:
    submitted = {code for d in catalog.seed_departments.values() for code in d.datasets}
    assert submitted == set(catalog.datasets)


def test_department_assignments(catalog: Catalog) -> None:
    by_name = {d.name: d for d in catalog.seed_departments.values()}
    assert set(by_name["濮阳市市场监督管理局"].datasets) >= {"XZCF", "XZXK", "FRJC", "JYYC", "YZSX"}
    assert set(by_name["国家税务总局濮阳市税务局"].datasets) >= {"NSXY", "XZCF", "YZSX"}
    assert by_name["濮阳市中级人民法院"].datasets == ("SXBZX",)
    assert by_name["中共濮阳市委组织部"].datasets == ("GZRY",)
    assert by_name["濮阳县市场监督管理局"].division == "410928"
    assert by_name["清丰县市场监督管理局"].division == "410922"


# -- a filled-in row of every dataset is accepted --------------------------------------------

DEPT = "11410900PY0000022L"
ID_CARD = "412723199010050012"
REG_NO = "310230001716146"


def filled_row(ds: Dataset) -> dict[str, str]:
    """Every column filled with a valid value: an organisation (or a person) with all codes."""
    row: dict[str, str] = {}
    for item in ds.items:
        match item.type:
            case ItemType.DATE:
                row[item.code] = "2024/03/15"
            case ItemType.DECIMAL:
                row[item.code] = "0.5"
            case ItemType.INTEGER:
                row[item.code] = "3"
            case ItemType.YEAR:
                row[item.code] = "2023"
            case ItemType.USCC | ItemType.TAXPAYER_NO:
                row[item.code] = DEPT
            case ItemType.ORG_CODE:
                row[item.code] = DEPT[8:17]
            case ItemType.REG_NO:
                row[item.code] = REG_NO
            case ItemType.ID_NUMBER:
                row[item.code] = ID_CARD
            case ItemType.ENUM:
                labels = [o.label for o in item.enum]
                row[item.code] = "法人及非法人组织" if "法人及非法人组织" in labels else labels[0]
            case _:
                row[item.code] = f"{item.name}示例"[: item.max_length]
    return row


def test_a_filled_in_row_of_every_dataset_is_accepted(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        checker = RowChecker(ds, DEPT, today=date(2025, 1, 1))
        row = filled_row(ds)
        checked = checker.check(3, row, list(row.values()))
        assert checked.ok, (ds.code, [(p.field, p.message) for p in checked.errors])
        assert checked.natural_key, ds.code
        assert checked.subject is not None


def test_persons_are_keyed_by_their_id_number(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        if "自然人" not in ds.subject_types:
            continue
        row = filled_row(ds)
        if ds.subject.category:
            row[ds.subject.category] = "自然人"
        checked = RowChecker(ds, DEPT, today=date(2025, 1, 1)).check(3, row, list(row.values()))
        assert checked.ok, (ds.code, [(p.field, p.message) for p in checked.errors])
        assert checked.subject is not None and checked.subject.category == "自然人", ds.code
        assert checked.subject.key == "I:" + ID_CARD, ds.code
