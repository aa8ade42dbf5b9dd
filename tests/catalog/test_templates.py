"""Upload templates: two header rows, drop-downs for enumerations, instructions per item."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset, EnumOption, Item, ItemType
from xinyong.catalog.templates import (
    DATA_SHEET,
    ENUM_SHEET,
    GUIDE_COLUMNS,
    GUIDE_SHEET,
    header_name,
    instructions_path,
    requirement_text,
    write_template,
)
from xinyong.errors import CatalogError
from xinyong.ingest.columns import ColumnPlan

BOM = b"\xef\xbb\xbf"


def validations_by_column(ws: Worksheet) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out.setdefault("".join(ch for ch in rng.split(":")[0] if ch.isalpha()), []).append(dv)
    return out


def column_of(ws: Worksheet, code: str) -> str:
    for cell in ws[2]:
        if cell.value == code:
            return str(cell.column_letter)
    raise AssertionError(code)


@pytest.fixture
def xzcf_xlsx(catalog: Catalog, tmp_path: Path) -> Path:
    path = tmp_path / "out" / "XZCF.xlsx"
    write_template(catalog.dataset("XZCF"), "xlsx", path)
    return path


def test_xlsx_has_two_header_rows(catalog: Catalog, xzcf_xlsx: Path) -> None:
    ds = catalog.dataset("XZCF")
    wb = load_workbook(xzcf_xlsx)
    assert wb.sheetnames[:2] == [DATA_SHEET, GUIDE_SHEET]
    ws = wb[DATA_SHEET]
    names = [c.value for c in ws[1]]
    codes = [c.value for c in ws[2]]
    assert codes == [i.code for i in ds.items]
    assert names[0] == "*行政相对人名称"  # required
    assert names[codes.index("CF_XDR_SHXYM")] == "△行政相对人代码_1(统一社会信用代码)"
    assert names[codes.index("CF_XDR_GSZC")] == "行政相对人代码_2(工商注册号)"  # optional
    assert ws.max_row == 2  # no data, only the headers
    assert ws.freeze_panes == "A3"


def test_xlsx_enum_columns_have_drop_downs(xzcf_xlsx: Path) -> None:
    ws = load_workbook(xzcf_xlsx)[DATA_SHEET]
    dvs = validations_by_column(ws)
    (category,) = dvs[column_of(ws, "CF_XDR_LB")]
    assert category.type == "list"  # type: ignore[attr-defined]
    assert category.formula1 == '"法人及非法人组织,自然人,个体工商户"'  # type: ignore[attr-defined]
    assert str(category.sqref) == f"{column_of(ws, 'CF_XDR_LB')}3:{column_of(ws, 'CF_XDR_LB')}10002"  # type: ignore[attr-defined]
    assert category.showErrorMessage  # type: ignore[attr-defined]
    # several penalty types go in one cell, so other input must not be refused
    (types,) = dvs[column_of(ws, "CF_CFLB")]
    assert not types.showErrorMessage  # type: ignore[attr-defined]
    assert column_of(ws, "CF_WSH") not in dvs  # text columns have no list


def test_xlsx_dates_and_codes_are_text(xzcf_xlsx: Path) -> None:
    ws = load_workbook(xzcf_xlsx)[DATA_SHEET]
    date_col = column_of(ws, "CF_JDRQ")
    assert ws.column_dimensions[date_col].number_format == "@"
    comment = ws[f"{date_col}1"].comment
    assert comment is not None and "YYYY/MM/DD" in comment.text
    assert ws.column_dimensions[column_of(ws, "CF_XDR_ZJHM")].number_format == "@"
    assert ws.column_dimensions[column_of(ws, "CF_NR_FK")].number_format != "@"  # a number


def test_xlsx_instructions_sheet(catalog: Catalog, xzcf_xlsx: Path) -> None:
    ds = catalog.dataset("XZCF")
    ws = load_workbook(xzcf_xlsx)[GUIDE_SHEET]
    rows = [[c.value or "" for c in row] for row in ws.iter_rows(max_col=len(GUIDE_COLUMNS))]
    assert tuple(rows[0]) == GUIDE_COLUMNS
    by_code = {r[0]: r for r in rows[1 : len(ds.items) + 1]}
    assert list(by_code) == [i.code for i in ds.items]
    assert by_code["CF_XDR_MC"][3] == "必填"
    assert by_code["CF_XDR_ZJHM"][3] == "条件必填：“行政相对人类别”为“自然人”时必填"
    assert by_code["CF_NR_FK"][3] == "条件必填：“处罚类别”含“罚款”时必填"
    assert by_code["BZ"][3] == "选填"
    assert by_code["CF_XDR_LB"][4] == "01 法人及非法人组织；02 自然人；03 个体工商户"
    assert by_code["CF_NR_FK"][5] == "万元"
    assert by_code["CF_YXQ"][6] == "长期有效填 2099/12/31"
    assert by_code["CF_JDRQ"][2] == "日期（YYYY/MM/DD）"
    notes = " ".join(r[0] for r in rows[len(ds.items) + 1 :])
    assert "第2行" in notes and "自动跳过" in notes  # the ingest reader skips the code row


def test_long_option_lists_go_to_a_hidden_sheet(catalog: Catalog, tmp_path: Path) -> None:
    base = catalog.dataset("GZRY")
    long_enum = Item(
        code="GZ_DW",
        name="所在单位",
        type=ItemType.ENUM,
        enum=tuple(
            EnumOption(code=f"{n:03d}", label=f"濮阳市第{n}个很长很长名称的市直机关单位")
            for n in range(1, 41)
        ),
    )
    ds = Dataset.model_validate(
        {
            **base.model_dump(by_alias=True),
            "items": [*base.model_dump(by_alias=True)["items"], long_enum.model_dump()],
        }
    )
    path = tmp_path / "long.xlsx"
    write_template(ds, "xlsx", path)
    wb = load_workbook(path)
    hidden = wb[ENUM_SHEET]
    assert hidden.sheet_state == "hidden"
    assert hidden["A1"].value == "GZ_DW"
    assert hidden["A2"].value == "濮阳市第1个很长很长名称的市直机关单位"
    assert hidden["A41"].value == "濮阳市第40个很长很长名称的市直机关单位"
    ws = wb[DATA_SHEET]
    (dv,) = validations_by_column(ws)[column_of(ws, "GZ_DW")]
    assert dv.formula1 == f"'{ENUM_SHEET}'!$A$2:$A$41"  # type: ignore[attr-defined]
    # the short lists of the same dataset stay inline
    (kind,) = validations_by_column(ws)[column_of(ws, "GZ_JLLX")]
    assert kind.formula1.startswith('"表彰奖励')  # type: ignore[attr-defined]


def test_csv_has_a_bom_and_two_header_rows(catalog: Catalog, tmp_path: Path) -> None:
    ds = catalog.dataset("XZXK")
    path = tmp_path / "XZXK.csv"
    write_template(ds, "csv", path)
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    rows = list(csv.reader(raw[len(BOM) :].decode("utf-8").splitlines()))
    assert rows == [[header_name(i) for i in ds.items], [i.code for i in ds.items]]
    assert rows[0][0] == "*行政相对人名称" and rows[1][0] == "XK_XDR_MC"


def test_csv_instructions_beside_the_template(catalog: Catalog, tmp_path: Path) -> None:
    ds = catalog.dataset("XZXK")
    path = tmp_path / "行政许可.csv"
    write_template(ds, "csv", path)
    guide = instructions_path(path)
    assert guide == tmp_path / "行政许可_填写说明.csv"
    raw = guide.read_bytes()
    assert raw.startswith(BOM)
    rows = list(csv.reader(raw[len(BOM) :].decode("utf-8").splitlines()))
    assert tuple(rows[0]) == GUIDE_COLUMNS
    by_code = {r[0]: r for r in rows[1 : len(ds.items) + 1]}
    assert by_code["XK_XKLB"][4] == "01 普通；02 特许；03 认可；04 核准；05 登记；06 其他"
    assert by_code["XK_FRDB"][3].startswith("条件必填：")
    text = guide.read_text(encoding="utf-8-sig")
    assert "自动跳过" in text and "UTF-8" in text
    assert "“有效期至”不得早于“有效期自”" in text  # the dataset's rules are explained


def test_present_condition_in_words(catalog: Catalog) -> None:
    ds = catalog.dataset("YZSX")
    assert requirement_text(ds, ds.item("MD_TCYY")) == "条件必填：填写了“退出日期”时必填"


@pytest.mark.parametrize("code", ["XZCF", "XZXK", "FRJC", "SXBZX", "NSXY", "GZRY"])
def test_every_dataset_writes_both_formats(catalog: Catalog, tmp_path: Path, code: str) -> None:
    ds = catalog.dataset(code)
    write_template(ds, "xlsx", tmp_path / f"{code}.xlsx")
    write_template(ds, "csv", tmp_path / f"{code}.csv")
    assert [c.value for c in load_workbook(tmp_path / f"{code}.xlsx")[DATA_SHEET][2]] == [
        i.code for i in ds.items
    ]


def test_unknown_format(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        write_template(catalog.dataset("XZCF"), "pdf", tmp_path / "x.pdf")  # type: ignore[arg-type]
    assert info.value.code == "TEMPLATE_FORMAT"


def test_the_ingest_reader_understands_the_template_headers(catalog: Catalog) -> None:
    """Marked names resolve to their items and the code row is recognised (and skipped)."""
    for ds in catalog.datasets.values():
        plan = ColumnPlan(ds, [header_name(i) for i in ds.items])
        assert not plan.unknown, (ds.code, plan.unknown)
        assert [code for _, code in plan.positions] == [i.code for i in ds.items]
        assert plan.is_code_header_row([i.code for i in ds.items])
