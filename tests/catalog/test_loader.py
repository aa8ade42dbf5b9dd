"""Loading the catalogue: the shipped one loads, broken files fail naming file, item and
problem, and departments.yaml is changed only by appending (comments survive)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyong.catalog.loader import Catalog, load_catalog, load_dataset
from xinyong.errors import CatalogError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """\
code: TEST
name: 测试数据集
provider: 测试部门
subject_types: [法人及非法人组织, 自然人]
nature: 其他
disclosure: 政务共享
update_cycle: 每月
natural_key: [T_WSH, subject]
subject: {name: T_MC, category: T_LB, uscc: T_SHXYM}
items:
  - {code: T_MC, name: 主体名称, required: true}
  - code: T_LB
    name: 主体类别
    type: enum
    required: true
    enum:
      - {code: "01", label: 法人及非法人组织}
      - {code: "02", label: 自然人}
  - code: T_SHXYM
    name: 统一社会信用代码
    type: uscc
    required_when: [{field: T_LB, in: [法人及非法人组织]}]
  - {code: T_WSH, name: 文书号, required: true}
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / "datasets" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_dataset(path)
    return info.value


# -- the shipped catalogue -----------------------------------------------------------------


def test_shipped_catalogue_loads(catalog: Catalog) -> None:
    expected = {
        "XZCF", "XZXK", "FRJC", "SXHMD", "YZSX", "SXBZX",
        "JYYC", "ZDGZ", "NSXY", "XYCN", "BZRY", "GZRY",
    }  # fmt: skip
    assert expected <= set(catalog.datasets)
    assert len(catalog.seed_departments) >= 15


@pytest.mark.parametrize("path", sorted((ROOT / "catalog" / "datasets").glob("*.yaml")), ids=str)
def test_every_dataset_file_loads_and_is_named_after_its_code(path: Path) -> None:
    ds = load_dataset(path)
    assert ds.code == path.stem


def test_dataset_lookup_by_code_or_name(catalog: Catalog) -> None:
    assert catalog.dataset("xzxk").code == "XZXK"
    assert catalog.dataset("失信被执行人").code == "SXBZX"
    with pytest.raises(CatalogError) as info:
        catalog.dataset("没有这个")
    assert info.value.code == "DATASET_UNKNOWN"


def test_minimal_file_loads(tmp_path: Path) -> None:
    ds = load_dataset(write(tmp_path, "TEST.yaml", MINIMAL))
    assert ds.natural_key == ("T_WSH", "subject")


# -- broken files ----------------------------------------------------------------------------


def test_unknown_type_names_file_item_and_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "TEST.yaml",
        MINIMAL.replace("{code: T_WSH, name: 文书号,", "{code: T_WSH, name: 文书号, type: money,"),
    )
    err = load_error(path)
    assert err.code == "CATALOG_INVALID"
    assert str(path) in err.message
    assert "信息项 T_WSH 的 type" in err.message
    assert "'text'" in err.message  # says which types exist


def test_enum_without_options(tmp_path: Path) -> None:
    text = MINIMAL + "  - {code: T_ZT, name: 状态, type: enum}\n"
    err = load_error(write(tmp_path, "TEST.yaml", text))
    assert "信息项 T_ZT" in err.message
    assert "必须列出 enum 取值" in err.message


def test_enum_options_on_a_text_item(tmp_path: Path) -> None:
    text = MINIMAL + "  - {code: T_ZT, name: 状态, enum: [{code: '1', label: 有效}]}\n"
    err = load_error(write(tmp_path, "TEST.yaml", text))
    assert "信息项 T_ZT" in err.message
    assert "只有枚举类型" in err.message


def test_required_when_naming_a_missing_field(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + "  - {code: T_FK, name: 罚款, required_when: [{field: T_CFLB, contains: [罚款]}]}\n"
    )
    path = write(tmp_path, "TEST.yaml", text)
    err = load_error(path)
    assert str(path) in err.message
    assert "信息项 T_FK 的 required_when 引用了不存在的信息项 T_CFLB" in err.message


def test_condition_with_two_tests(tmp_path: Path) -> None:
    cond = "{field: T_LB, in: [自然人], present: true}"
    text = MINIMAL + f"  - {{code: T_X, name: 某项, required_when: [{cond}]}}\n"
    err = load_error(write(tmp_path, "TEST.yaml", text))
    assert "信息项 T_X" in err.message
    assert "in、contains、present 之一" in err.message


def test_natural_key_naming_a_missing_field(tmp_path: Path) -> None:
    text = MINIMAL.replace("natural_key: [T_WSH, subject]", "natural_key: [T_AH, subject]")
    err = load_error(write(tmp_path, "TEST.yaml", text))
    assert "natural_key 引用了不存在的信息项 T_AH" in err.message


def test_file_name_differs_from_code(tmp_path: Path) -> None:
    path = write(tmp_path, "OTHER.yaml", MINIMAL)
    err = load_error(path)
    assert err.code == "CATALOG_INVALID"
    assert str(path) in err.message
    assert "数据代码 TEST 与文件名 OTHER 不一致" in err.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "TEST.yaml", MINIMAL + "  - {code: T_BAD, name: [未闭合\n")
    err = load_error(path)
    assert err.code == "CATALOG_SYNTAX"
    assert str(path) in err.message
    assert "无法解析 YAML" in err.message


def test_duplicate_item_code(tmp_path: Path) -> None:
    text = MINIMAL + "  - {code: T_WSH, name: 另一个文书号}\n"
    err = load_error(write(tmp_path, "TEST.yaml", text))
    assert "信息项代码重复: T_WSH" in err.message


def test_not_a_mapping(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, "TEST.yaml", "- just\n- a list\n"))
    assert err.code == "CATALOG_SHAPE"


def test_bad_item_code_is_named_by_its_code(tmp_path: Path) -> None:
    text = MINIMAL + "  - {code: t_lower, name: 小写代码}\n"
    err = load_error(write(tmp_path, "TEST.yaml", text))
    assert "信息项 t_lower 的 code" in err.message


def test_broken_file_fails_the_whole_catalogue(tmp_path: Path) -> None:
    write(tmp_path, "TEST.yaml", MINIMAL)
    write(tmp_path, "BAD.yaml", MINIMAL)  # code TEST in a file named BAD
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert "BAD.yaml" in info.value.message


def test_missing_datasets_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert info.value.code == "CATALOG_MISSING"


# -- departments.yaml ------------------------------------------------------------------------

ORG = "11410900PY0000014R"  # a synthetic, valid 机关 code (see catalog/departments.yaml)


def test_department_with_unknown_dataset(tmp_path: Path) -> None:
    write(tmp_path, "TEST.yaml", MINIMAL)
    (tmp_path / "departments.yaml").write_text(
        f'departments:\n  - {{uscc: "{ORG}", name: 测试部门, datasets: [TEST, NOPE]}}\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert "departments.yaml" in info.value.message
    assert "NOPE" in info.value.message


def test_department_listed_twice(tmp_path: Path) -> None:
    write(tmp_path, "TEST.yaml", MINIMAL)
    entry = f'  - {{uscc: "{ORG}", name: 测试部门, datasets: [TEST]}}\n'
    (tmp_path / "departments.yaml").write_text("departments:\n" + entry * 2, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert f"部门代码 {ORG} 重复" in info.value.message
