"""Taxpayer numbers (纳税人识别号): the 统一社会信用代码, or the old 15-character 税务登记号.

Before the USCC (2015), a unit's 税务登记证号 was its 6-digit 行政区划码 followed by its
9-character 组织机构代码 (GB 11714); tax lists still carry it for taxpayers that never
re-registered (about a fifth of one province's real 纳税信用A级 list). It embeds the
organisation code, so it links to the same subject as the USCC carrying that code.
Source: 国家税务总局《税务登记管理办法》(2003) art. 13 and 国税发〔2006〕 on the 15-digit
税务登记代码 (division + organisation code) [I: widely published layout, checked against the
real lists it was found in].

The 15-digit individual form (a 15-digit ID number) and the 17/18/20-digit forms of
individuals are not taxpayer numbers of organisations and are not accepted here.
"""

from __future__ import annotations

from xinyong.codes.divisions import registration_office_name
from xinyong.codes.normalize import normalize_code
from xinyong.codes.result import KIND_TAX_REG_NO, CodeCheck, failed
from xinyong.codes.uscc import check_org_code, check_uscc

__all__ = ["check_tax_reg_no", "check_taxpayer_no"]


def check_tax_reg_no(value: str) -> CodeCheck:
    """Check a 15-character 税务登记号: 6-digit division + a valid 9-character 组织机构代码."""
    v = normalize_code(value)
    if len(v) != 15:
        return failed(
            KIND_TAX_REG_NO, v, "TAX_REG_NO_LENGTH", f"税务登记号应为15位，实际为{len(v)}位"
        )
    division = v[:6]
    if not (division.isascii() and division.isdigit()):
        return failed(
            KIND_TAX_REG_NO, v, "TAX_REG_NO_REGION", "税务登记号第1–6位（行政区划码）应为数字"
        )
    org = check_org_code(v[6:])
    if not org.ok:
        return failed(
            KIND_TAX_REG_NO,
            v,
            "TAX_REG_NO_ORG_CODE",
            f"税务登记号第7–15位应为有效的组织机构代码：{org.message}",
        )
    facts = {"org_code": v[6:], "division": division}
    warnings: tuple[str, ...] = ()
    name = registration_office_name(division)
    if name is not None:
        facts["division_name"] = name
    else:
        warnings = (f"第1–6位行政区划码 {division} 不在行政区划代码表（含历史代码）中",)
    return CodeCheck(KIND_TAX_REG_NO, v, True, None, None, warnings, facts)


def check_taxpayer_no(value: str) -> CodeCheck:
    """A 纳税人识别号: an 18-character USCC, or a 15-character 税务登记号."""
    v = normalize_code(value)
    if len(v) == 15:
        return check_tax_reg_no(v)
    result = check_uscc(v)
    if result.error == "USCC_LENGTH":
        return failed(
            result.kind,
            v,
            "TAXPAYER_NO_LENGTH",
            f"纳税人识别号应为18位统一社会信用代码或15位税务登记号，实际为{len(v)}位",
        )
    return result
