"""税务登记号 (15 characters: division + 组织机构代码) and 纳税人识别号 (USCC or 税务登记号).

Vectors: the 组织机构代码 600037341 embedded in the published USCC 91110000600037341L
(domain.md §1.5); the rest are synthetic."""

from __future__ import annotations

from datetime import date

from xinyong.codes import check_code, check_tax_reg_no, check_taxpayer_no, org_check_char

ORG = "600037341"


def test_division_plus_org_code_is_a_tax_reg_no() -> None:
    result = check_tax_reg_no("110108" + ORG)
    assert result.ok and result.kind == "tax_reg_no" and result.warnings == ()
    assert result.facts["org_code"] == ORG
    assert result.facts["division"] == "110108"
    assert result.facts["division_name"] == "北京市海淀区"


def test_its_org_code_must_be_valid() -> None:
    bad = "110108600037342"
    assert check_tax_reg_no(bad).error == "TAX_REG_NO_ORG_CODE"
    assert check_tax_reg_no("11A108" + ORG).error == "TAX_REG_NO_REGION"
    assert check_tax_reg_no("110108" + ORG[:8]).error == "TAX_REG_NO_LENGTH"


def test_an_unknown_division_is_a_warning() -> None:
    body = "PY3K7Q2M"
    result = check_tax_reg_no("419999" + body + org_check_char(body))
    assert result.ok and result.warnings and "419999" in result.warnings[0]


def test_a_taxpayer_number_is_a_uscc_or_a_tax_reg_no() -> None:
    assert check_taxpayer_no("91110000600037341L").kind == "uscc"
    assert check_taxpayer_no("91110000600037341L").ok
    assert check_taxpayer_no("91110000600037341N").error == "USCC_CHECK"
    assert check_taxpayer_no("410902" + ORG).kind == "tax_reg_no"
    assert check_taxpayer_no("4109026000373").error == "TAXPAYER_NO_LENGTH"


def test_detection_of_mixed_codes_is_unchanged() -> None:
    # a 15-digit code in a column of mixed codes is still a 注册号 or an old ID number
    assert check_code("310230001716146", date(2026, 12, 7)).kind == "reg_no"
