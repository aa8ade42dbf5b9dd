"""Identifier codes (代码校验): pure, fast checks run on every row of delivered files.

- 统一社会信用代码 (unified social credit code), GB 32100-2015
- 组织机构代码 (organisation code), GB 11714-1997
- 工商注册号 (15-digit business registration number), GS 15-2006
- 居民身份证号码 (citizen ID number), GB 11643-1999, 18 or 15 digits
- 税务登记号 (15-character taxpayer number before the USCC), in a 纳税人识别号 column
- 行政区划代码 (administrative division codes), GB/T 2260, with history since 1981

Every checker returns a :class:`CodeCheck`; none raises on bad input.
"""

from xinyong.codes.detect import check_code
from xinyong.codes.divisions import (
    DivisionPeriod,
    division_full_name,
    division_history,
    division_in_use,
    division_known,
    division_name,
)
from xinyong.codes.idcard import check_id_number, id15_to_18, id_check_char
from xinyong.codes.normalize import normalize_code
from xinyong.codes.regno import check_reg_no, regno_check_digit
from xinyong.codes.result import (
    FACT_LABELS,
    KIND_ID_NUMBER,
    KIND_NAMES,
    KIND_ORG_CODE,
    KIND_REG_NO,
    KIND_TAX_REG_NO,
    KIND_UNKNOWN,
    KIND_USCC,
    CodeCheck,
)
from xinyong.codes.taxno import check_tax_reg_no, check_taxpayer_no
from xinyong.codes.uscc import (
    USCC_CHARSET,
    check_org_code,
    check_uscc,
    org_check_char,
    uscc_check_char,
)

__all__ = [
    "FACT_LABELS",
    "KIND_ID_NUMBER",
    "KIND_NAMES",
    "KIND_ORG_CODE",
    "KIND_REG_NO",
    "KIND_TAX_REG_NO",
    "KIND_UNKNOWN",
    "KIND_USCC",
    "USCC_CHARSET",
    "CodeCheck",
    "DivisionPeriod",
    "check_code",
    "check_id_number",
    "check_org_code",
    "check_reg_no",
    "check_tax_reg_no",
    "check_taxpayer_no",
    "check_uscc",
    "division_full_name",
    "division_history",
    "division_in_use",
    "division_known",
    "division_name",
    "id15_to_18",
    "id_check_char",
    "normalize_code",
    "org_check_char",
    "regno_check_digit",
    "uscc_check_char",
]
