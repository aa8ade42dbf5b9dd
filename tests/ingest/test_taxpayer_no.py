"""纳税信用等级 (NSXY) carries the old 15-character 税务登记号 of taxpayers that never got a
USCC; it links through the 组织机构代码 it embeds. Synthetic codes only."""

from __future__ import annotations

import shutil
from pathlib import Path

from fixtures.deliveries import (
    XINYUAN,
    all_subjects,
    codes_by_row,
    penalty,
    run,
    stored_records,
    write_csv,
)
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.codes import org_check_char, uscc_check_char
from xinyong.codes.catalog import load_code_catalog, use_code_catalog
from xinyong.sample.datasets import PENALTY_HEADERS, Dept

TAX = Dept("11410900PY0000030F", "国家税务总局濮阳市税务局")
HEADERS = [
    "纳税人识别号",
    "纳税人名称",
    "评价年度",
    "纳税信用等级",
    "评价机关",
    "评价日期",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
]
BODY = "PY5T2W8K"
OLD_ONLY = "410922" + BODY + org_check_char(BODY)  # a taxpayer without a USCC (synthetic)


def grade(code: str, name: str, year: str = "2023") -> dict[str, str]:
    return {
        "纳税人识别号": code,
        "纳税人名称": name,
        "评价年度": year,
        "纳税信用等级": "A",
        "评价机关": TAX.name,
        "评价日期": "2024-04-20",
        "数据来源单位": TAX.name,
        "数据来源单位统一社会信用代码": TAX.uscc,
    }


def test_a_tax_reg_no_is_accepted_and_links_through_its_org_code(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    old_form = "410902" + XINYUAN.org_code  # XINYUAN's 税务登记号 before its USCC
    rows = [
        grade(XINYUAN.uscc, XINYUAN.name, "2023"),
        grade(old_form, XINYUAN.name, "2022"),
        grade(OLD_ONLY, "清丰县老字号酱菜厂"),
        grade("410922" + BODY + "0", "校验位错误的厂"),  # org check char wrong
    ]
    path = write_csv(tmp_path / "nsxy.csv", rows, HEADERS)
    receipt = run(engine, catalog, path, dataset="NSXY", dept=TAX)
    assert codes_by_row(receipt) == {5: {"TAX_REG_NO_ORG_CODE"}}
    assert (receipt.new, receipt.pending) == (3, 0)
    subjects = {s["org_code"]: s for s in all_subjects(engine)}
    assert set(subjects) == {XINYUAN.org_code, OLD_ONLY[6:]}
    assert subjects[XINYUAN.org_code]["uscc"] == XINYUAN.uscc
    assert subjects[OLD_ONLY[6:]]["uscc"] is None
    by_year = {r["data"]["NS_PJND"]: r for r in stored_records(engine, "NSXY")}
    assert by_year["2022"]["subject_id"] == subjects[XINYUAN.org_code]["id"]
    assert by_year["2022"]["data"]["NS_SHXYM"] == old_form  # stored as sent

    # the 2023 grade sent again with the old number is the same record (a new version)
    again = run(
        engine,
        catalog,
        write_csv(tmp_path / "again.csv", [grade(old_form, XINYUAN.name, "2023")], HEADERS),
        dataset="NSXY",
        dept=TAX,
    )
    assert (again.new, again.unchanged, again.updated) == (0, 0, 1)


def test_a_listed_code_that_fails_its_check_is_accepted_with_a_warning(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    body = "PY8M4R6T"
    first17 = "91410922" + body + org_check_char(body)
    bad = first17 + ("0" if uscc_check_char(first17) != "0" else "1")
    rows = [grade(bad, "清丰县特许代码有限公司")]
    path = write_csv(tmp_path / "nsxy.csv", rows, HEADERS)
    refused = run(engine, catalog, path, dataset="NSXY", dept=TAX)
    assert codes_by_row(refused) == {2: {"USCC_CHECK"}}

    root = tmp_path / "catalog"
    shutil.copytree(catalog.root, root)
    (root / "codes" / "issued_exceptions.yaml").write_text(
        f'codes:\n  - {{code: "{bad}", name: 清丰县特许代码有限公司, '
        "authority: 清丰县市场监督管理局, notice: 《关于统一社会信用代码的说明》（测试）}\n",
        encoding="utf-8",
    )
    try:
        accepted = run(engine, load_catalog(root), path, dataset="NSXY", dept=TAX)
    finally:
        use_code_catalog(load_code_catalog(catalog.root / "codes"))
    assert (accepted.new, accepted.rejected) == (1, 0)
    (warning,) = [w for w in accepted.warnings if w["code"] == "CODE_ISSUED_EXCEPTION"]
    assert warning["row"] == 2 and "清丰县市场监督管理局" in warning["message"]


def test_a_penalty_naming_only_the_tax_reg_no_links_through_its_org_code(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    only_tax = penalty(
        XINYUAN,
        "濮市监罚决字〔2023〕00102号",
        **{
            "行政相对人代码_1(统一社会信用代码)": "",
            "行政相对人代码_4(税务登记号)": "410902" + XINYUAN.org_code,
        },
    )
    rows = [penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"), only_tax]
    headers = [*PENALTY_HEADERS, "行政相对人代码_4(税务登记号)"]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows, headers))
    assert (receipt.new, receipt.pending, receipt.rejected) == (2, 0, 0)
    (subject,) = all_subjects(engine)
    assert subject["uscc"] == XINYUAN.uscc
    assert {r["subject_id"] for r in stored_records(engine)} == {subject["id"]}
