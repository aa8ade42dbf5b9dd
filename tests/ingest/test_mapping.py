"""Mapping files: a department's own export layout onto a catalogue dataset, and amounts
written out in decision texts."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from fixtures.deliveries import (
    ENV,
    HENGDA,
    LONGDU,
    NOTHING,
    XINYUAN,
    codes_by_row,
    record_by_wsh,
    run,
    table_counts,
    write_csv,
)
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.errors import FileRefused
from xinyong.ingest.mapping import amount_after, load_mapping

# -- amounts in decision texts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("罚款30万元", 300_000),
        ("罚款人民币二十二万元", 220_000),
        ("合计罚款135万元", 1_350_000),
        ("警告并罚款0.5万元", 5_000),
        ("罚款2000元", 2_000),
        ("罚款人民币5000元", 5_000),
        ("罚款1,000元", 1_000),
        ("罚款３０万元", 300_000),  # full-width digits
        ("罚款共计5万元", 50_000),
        ("罚款人民币贰拾万元整", 200_000),
        ("处以罚款人民币伍仟元整", 5_000),
        ("没收违法所得1000元并罚款2万元", 20_000),
    ],
)
def test_amount_after_the_keyword(text: str, yuan: int) -> None:
    assert amount_after(text, "罚款") == Decimal(yuan)


def test_a_stated_total_wins_over_the_parts() -> None:
    text = "对当事人违法行为一罚款10万元，违法行为二罚款125万元，合计罚款135万元"
    assert amount_after(text, "罚款") == Decimal(1_350_000)


def test_several_fines_without_a_total_add_up() -> None:
    assert amount_after("对违法行为一罚款10万元，对违法行为二罚款5万元", "罚款") == 150_000


@pytest.mark.parametrize("text", ["警告", "责令改正，给予警告", "罚款", ""])
def test_no_amount_is_none_not_zero(text: str) -> None:
    assert amount_after(text, "罚款") is None


# -- broken mapping files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        ("headers: [被处罚单位名称\n", "无法读取"),  # not YAML
        ("header:\n  被处罚单位名称: CF_XDR_MC\n", "header"),  # a misspelt key
        ("derive:\n  CF_WSH: {regex: '(.+)'}\n", "from"),  # no source column
        ("derive:\n  CF_WSH: {from: 文号, regex: '([未闭合'}\n", "正则表达式"),
        ("derive:\n  CF_NR_FK: {from: 罚款金额, scale: 万分之一}\n", "scale"),
        ("headers: 被处罚单位名称\n", "headers"),  # not a table
        # an unknown unit must not silently count as yuan
        ("derive:\n  CF_NR_FK: {from: 处罚决定, amount: 罚款, unit: 千元}\n", "unit"),
    ],
)
def test_a_broken_mapping_file_is_refused(tmp_path: Path, content: str, hint: str) -> None:
    path = tmp_path / "映射.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileRefused) as exc:
        load_mapping(path)
    assert exc.value.code == "MAPPING_INVALID"
    assert hint in exc.value.message
    assert str(path) in exc.value.message


def test_a_missing_mapping_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused) as exc:
        load_mapping(tmp_path / "没有.yaml")
    assert exc.value.code == "MAPPING_INVALID"


# -- a department's own export, mapped --------------------------------------------------------

# How 濮阳市生态环境局 exports its decisions from its case system: its own headers, the fine in
# yuan, the 文号 in brackets, dates with stray spaces, and no 类别/机关 columns at all.
EXPORT_HEADERS = [
    "被处罚单位名称",
    "统一社会信用代码",
    "法定代表人姓名",
    "处罚文号",
    "违法行为",
    "违法事实",
    "处罚依据",
    "行政处罚决定",
    "罚款金额（元）",
    "决定日期",
    "有效期至",
]

MAPPING = f"""\
dataset: XZCF
headers:
  被处罚单位名称: CF_XDR_MC
  违法行为: 违法行为类型
  行政处罚决定: 处罚内容
constants:
  CF_XDR_LB: 法人及非法人组织
  CF_CFJG: {ENV.name}
  CF_CFJGDM: {ENV.uscc}
  CF_SJLY: {ENV.name}
  CF_SJLYDM: {ENV.uscc}
derive:
  CF_WSH: {{from: 处罚文号, regex: '^[（(]?(.+?)[)）]?$'}}
  CF_NR_FK: {{from: 罚款金额（元）, scale: 0.0001}}
  CF_CFLB: {{from: 行政处罚决定, keywords: {{警告: 警告, 罚款: 罚款}}, default: 其他}}
  CF_JDRQ: {{from: 决定日期, strip_spaces: true}}
  CF_YXQ: {{from: 有效期至, strip_spaces: true}}
"""


def export_row(company: object, wsh: str, decision: str, fine_yuan: str, **cells: str) -> dict:
    row = {
        "被处罚单位名称": company.name,  # type: ignore[attr-defined]
        "统一社会信用代码": company.uscc,  # type: ignore[attr-defined]
        "法定代表人姓名": company.legal_rep,  # type: ignore[attr-defined]
        "处罚文号": wsh,
        "违法行为": "超标排放大气污染物",
        "违法事实": "经现场监测，当事人锅炉废气中颗粒物排放浓度超过国家标准37%。",
        "处罚依据": "《中华人民共和国大气污染防治法》第九十九条",
        "行政处罚决定": decision,
        "罚款金额（元）": fine_yuan,
        "决定日期": "2022 年5月23日",
        "有效期至": "2023 年5月23日",
    }
    row.update(cells)
    return row


def test_a_department_export_is_mapped_onto_the_dataset(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    mapping = tmp_path / "生态环境局.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    rows = [
        export_row(XINYUAN, "（濮环罚〔2022〕18号）", "罚款人民币20万元", "200,000"),
        export_row(HENGDA, "濮环罚〔2022〕19号", "警告并罚款0.5万元", "5000"),
        export_row(LONGDU, "(濮环罚〔2022〕20号)", "责令停产整治", ""),
        # a bad amount still reaches the item's own check
        export_row(XINYUAN, "濮环罚〔2022〕21号", "罚款人民币2万元", "两万"),
    ]
    path = write_csv(tmp_path / "环保局导出.csv", rows, EXPORT_HEADERS, "gbk")
    receipt = run(engine, catalog, path, dept=ENV, mapping_path=mapping)
    assert (receipt.received, receipt.new, receipt.rejected) == (4, 3, 1)
    assert codes_by_row(receipt) == {5: {"DECIMAL_INVALID"}}
    # every source column is used: none is reported as ignored
    assert not [w for w in receipt.warnings if w["code"] == "COLUMN_UNKNOWN"]

    first = record_by_wsh(engine, "濮环罚〔2022〕18号")["data"]
    assert first["CF_XDR_MC"] == XINYUAN.name
    assert first["CF_XDR_LB"] == "法人及非法人组织"
    assert first["CF_NR_FK"] == "20"  # 200,000 元 → 20 万元
    assert first["CF_CFLB"] == "罚款"
    assert first["CF_JDRQ"] == "2022-05-23"
    assert first["CF_YXQ"] == "2023-05-23"
    assert first["CF_CFJGDM"] == ENV.uscc
    assert first["CF_WFXW"] == "超标排放大气污染物"

    second = record_by_wsh(engine, "濮环罚〔2022〕19号")["data"]
    assert second["CF_NR_FK"] == "0.5"
    assert set(second["CF_CFLB"].split(";")) == {"警告", "罚款"}

    third = record_by_wsh(engine, "濮环罚〔2022〕20号")["data"]
    assert third["CF_CFLB"] == "其他"  # no keyword found: the mapping's default
    assert "CF_NR_FK" not in third


def test_amounts_written_in_the_decision_text(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    mapping = tmp_path / "映射.yaml"
    mapping.write_text(
        MAPPING.replace(
            "CF_NR_FK: {from: 罚款金额（元）, scale: 0.0001}",
            "CF_NR_FK: {from: 行政处罚决定, amount: 罚款, unit: 万元}",
        ),
        encoding="utf-8",
    )
    headers = [h for h in EXPORT_HEADERS if h != "罚款金额（元）"]
    rows = [
        export_row(XINYUAN, "濮环罚〔2022〕31号", "罚款人民币二十二万元", ""),
        export_row(HENGDA, "濮环罚〔2022〕32号", "警告并罚款0.5万元", ""),
        export_row(LONGDU, "濮环罚〔2022〕33号", "罚款2000元", ""),
        # 罚款 named but no amount: the required amount is missing, and the receipt says so
        export_row(XINYUAN, "濮环罚〔2022〕34号", "罚款（金额另行通知）", ""),
    ]
    path = write_csv(tmp_path / "导出.csv", rows, headers, "utf-8-sig")
    receipt = run(engine, catalog, path, dept=ENV, mapping_path=mapping)
    assert (receipt.new, receipt.rejected) == (3, 1)
    assert codes_by_row(receipt) == {5: {"FIELD_REQUIRED_IF"}}
    assert record_by_wsh(engine, "濮环罚〔2022〕31号")["data"]["CF_NR_FK"] == "22"
    assert record_by_wsh(engine, "濮环罚〔2022〕32号")["data"]["CF_NR_FK"] == "0.5"
    assert record_by_wsh(engine, "濮环罚〔2022〕33号")["data"]["CF_NR_FK"] == "0.2"


@pytest.mark.parametrize(
    ("mapping", "code"),
    [
        ("headers:\n  被处罚单位名称: 不存在的信息项\n", "MAPPING_INVALID"),
        ("constants:\n  CF_NOPE: x\n", "MAPPING_INVALID"),
        ("derive:\n  处罚金额合计: {from: 罚款金额（元）, scale: 0.0001}\n", "MAPPING_INVALID"),
        ("dataset: XZXK\n", "MAPPING_DATASET"),
    ],
)
def test_a_mapping_that_does_not_fit_the_dataset_refuses_the_file(
    engine: Engine, catalog: Catalog, tmp_path: Path, mapping: str, code: str
) -> None:
    path = tmp_path / "映射.yaml"
    path.write_text(textwrap.dedent(mapping), encoding="utf-8")
    data = write_csv(
        tmp_path / "导出.csv",
        [export_row(XINYUAN, "濮环罚〔2022〕41号", "罚款2000元", "2000")],
        EXPORT_HEADERS,
    )
    with pytest.raises(FileRefused) as exc:
        run(engine, catalog, data, dept=ENV, mapping_path=path)
    assert exc.value.code == code
    assert table_counts(engine) == NOTHING
