"""The result every code checker returns (代码校验结果).

Shared by the checkers for the unified social credit code (统一社会信用代码, GB 32100-2015),
the organisation code (组织机构代码, GB 11714-1997), the business registration number
(工商注册号, GS 15-2006) and the citizen ID number (居民身份证号码, GB 11643-1999).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIND_USCC = "uscc"
KIND_ORG_CODE = "org_code"
KIND_REG_NO = "reg_no"
KIND_ID_NUMBER = "id_number"
KIND_TAX_REG_NO = "tax_reg_no"
KIND_UNKNOWN = "unknown"

#: Chinese name of each kind, for screens and reports.
KIND_NAMES: dict[str, str] = {
    KIND_USCC: "统一社会信用代码",
    KIND_ORG_CODE: "组织机构代码",
    KIND_REG_NO: "工商注册号",
    KIND_ID_NUMBER: "居民身份证号码",
    KIND_TAX_REG_NO: "税务登记号",
    KIND_UNKNOWN: "未知",
}

#: Chinese label of each key that may appear in ``CodeCheck.facts``.
FACT_LABELS: dict[str, str] = {
    "org_code": "组织机构代码",
    "authority": "登记管理部门",
    "org_type": "机构类别",
    "category": "行政相对人类别",
    "database": "归集库",
    "division": "行政区划代码",
    "division_name": "行政区划名称",
    "birth_date": "出生日期",
    "gender": "性别",
    "converted_from_15": "由15位号码升级",
}


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """Outcome of checking one code.

    ``facts`` and ``warnings`` are only filled for valid codes: facts read off an invalid code
    (a division, a birth date) could be the very part that was mistyped.
    """

    kind: str
    value: str
    ok: bool
    error: str | None
    message: str | None
    warnings: tuple[str, ...] = ()
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, KIND_NAMES[KIND_UNKNOWN])

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "value": self.value,
            "ok": self.ok,
            "error": self.error,
            "message": self.message,
            "warnings": list(self.warnings),
            "facts": dict(self.facts),
        }


def failed(kind: str, value: str, error: str, message: str) -> CodeCheck:
    return CodeCheck(kind, value, False, error, message)


def show_char(ch: str) -> str:
    """Render an offending character so a clerk can see it even when it is invisible."""
    if ch.isprintable() and not ch.isspace():
        return f"“{ch}”"
    return f"“U+{ord(ch):04X}”"
