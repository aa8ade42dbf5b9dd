"""Rows of the list datasets as the court sends them, for the disclosure tests (item codes as
headers: ingestion resolves them like the Chinese names)."""

from __future__ import annotations

from fixtures.deliveries import Citizen, Company

from xinyong.sample.datasets import SYNTHETIC_NOTE, Dept

COURT = Dept("11410900PY0000049C", "濮阳市中级人民法院")  # SXBZX only

SXBZX_HEADERS = [
    "MD_ZTMC",
    "MD_ZTLB",
    "MD_SHXYM",
    "MD_ZJLX",
    "MD_ZJHM",
    "ZX_XB",
    "ZX_NL",
    "MD_ZRR",
    "MD_RDBM",
    "MD_RDBMDM",
    "ZX_ZXYJWH",
    "ZX_AH",
    "ZX_LASJ",
    "ZX_YW",
    "ZX_LXQK",
    "MD_LRSY",
    "MD_LRRQ",
    "MD_YXQZ",
    "MD_SJLY",
    "MD_SJLYDM",
    "BZ",
]


def debtor(subject: Company | Citizen, case: str, **cells: str) -> dict[str, str]:
    """One 失信被执行人 row: published (列入) 2025-03-10 unless ``cells`` say otherwise."""
    row = {
        "MD_ZTMC": subject.name,
        "MD_RDBM": COURT.name,
        "MD_RDBMDM": COURT.uscc,
        "ZX_ZXYJWH": "（2024）豫0902民初1288号",
        "ZX_AH": case,
        "ZX_LASJ": "2025-01-06",
        "ZX_YW": "被执行人于判决生效后十日内支付货款人民币86000元及利息",
        "ZX_LXQK": "全部未履行",
        "MD_LRSY": "有履行能力而拒不履行生效法律文书确定义务",
        "MD_LRRQ": "2025-03-10",
        "MD_SJLY": COURT.name,
        "MD_SJLYDM": COURT.uscc,
        "BZ": SYNTHETIC_NOTE,
    }
    if isinstance(subject, Company):
        row.update({"MD_ZTLB": "法人及非法人组织", "MD_SHXYM": subject.uscc})
        row["MD_ZRR"] = subject.legal_rep
    else:
        row.update(
            {"MD_ZTLB": "自然人", "MD_ZJLX": "身份证", "MD_ZJHM": subject.id_number, "ZX_XB": "男"}
        )
    row.update(cells)
    return row
