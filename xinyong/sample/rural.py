"""Sample rows for the rural ratings (信用户 / 信用村 / 信用乡镇): two townships of 濮阳县 with
three villages each, twenty households a village, and their credit figures.

The rows are made so that the demo shows every outcome: villages with most households meeting
the 信用户 criteria and healthy loans (信用村), villages without; a township with two credit
villages of three (信用乡镇) and one with one of three. Households fail the criteria in turn
(residence, capacity, income, old arrears, the PBOC flag), so each criterion shows failing in
some explanation. A random generator of its own (seeded from the world's seed) keeps the
world's draws, and so every other sample file, as they were. Everything is synthetic: the
names say so, the codes are made up with valid check characters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from xinyong.ingest.rows import ID_CARD_LABEL
from xinyong.sample.datasets import SYNTHETIC_NOTE, Dept, SampleRow
from xinyong.sample.world import make_id, make_uscc

COUNTY = "410928"  # 濮阳县
# (township code, name, villages: (name, households failing a 信用户 criterion, overdue
# borrowers, NPL ratio))
TOWNSHIPS = (
    (
        "410928100",
        "合成甲镇",
        (("东庄村", 3, 1, 0.02), ("西庄村", 4, 0, 0.03), ("南街村", 9, 2, 0.06)),
    ),
    (
        "410928101",
        "合成乙乡",
        (("北岗村", 2, 1, 0.01), ("后寨村", 8, 2, 0.04), ("前营村", 10, 4, 0.07)),
    ),
)
HOUSEHOLDS = 20
FIGURES_DAY = date(2026, 9, 30)
HOUSEHOLD_DAY = date(2026, 10, 31)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = ("建国", "秀英", "志强", "桂英", "海燕", "玉兰", "建华", "国强", "春梅", "振华")
# what a failing household lacks, in turn
_FAILS = ("CZBC", "KCHSR", "WLSQK", "ZXWBL", "MSNL")


@dataclass(frozen=True)
class Rural:
    areas: list[SampleRow]
    households: list[SampleRow]


def _area(
    name: str, uscc: str, level: str, code: str, loans: float, npl: float, new: float, n: int
) -> SampleRow:
    return SampleRow(
        {
            "主体名称": name,
            "统一社会信用代码": uscc,
            "区划层级": level,
            "统计用区划代码": code,
            "区划名称": name.removesuffix("村民委员会").removesuffix("人民政府"),
            "农户数": str(n),
            "涉农贷款余额": f"{loans:.1f}",
            "不良贷款余额": f"{npl:.1f}",
            "本年新增不良贷款": f"{new:.1f}",
            "统计日期": FIGURES_DAY.isoformat(),
            "备注": SYNTHETIC_NOTE,
        }
    )


def rural_rows(seed: int, dept: Dept) -> Rural:
    rng = random.Random(f"rural-{seed}")
    areas: list[SampleRow] = []
    homes: list[SampleRow] = []
    for town_code, town, villages in TOWNSHIPS:
        town_loans = town_npl = town_new = 0.0
        for v, (village, failing, overdue, npl_ratio) in enumerate(villages, start=1):
            code = f"{town_code}{200 + v:03d}"
            loans = 0.0
            for h in range(HOUSEHOLDS):
                lacks = _FAILS[h % len(_FAILS)] if h < failing else None
                # three households in four borrow; one with old arrears gets no new loan
                borrower = h % 4 != 3 and lacks != "WLSQK"
                loan = round(rng.uniform(2, 20), 1) if borrower else 0.0
                loans += loan
                # the last ``overdue`` borrowers of every fourth household are overdue
                late = borrower and h % 4 == 0 and h >= HOUSEHOLDS - 4 * overdue
                birth = date.fromordinal(date(1960, 1, 1).toordinal() + rng.randrange(365 * 35))
                homes.append(
                    SampleRow(
                        {
                            "户主姓名": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                            "证件类型": ID_CARD_LABEL,
                            "证件号码": make_id(rng, COUNTY, birth),
                            "所在村统计用区划代码": code,
                            "所在村名称": f"{town}{village}",
                            "家庭人口": str(rng.randrange(2, 7)),
                            "是否常住本村": "否" if lacks == "CZBC" else "是",
                            "户主民事行为能力": "限制民事行为能力"
                            if lacks == "MSNL"
                            else "完全民事行为能力",
                            "家庭年纯收入": "0.6"
                            if lacks == "KCHSR"
                            else f"{rng.uniform(2, 12):.1f}",
                            "贷款余额": f"{loan:.1f}",
                            "逾期贷款金额": f"{round(loan * 0.3, 1):.1f}" if late else "0",
                            "历史欠款余额": "1.2" if lacks == "WLSQK" else "0",
                            "征信系统不良记录": "有" if lacks == "ZXWBL" else "无",
                            "信息更新日期": HOUSEHOLD_DAY.isoformat(),
                            "数据来源单位": dept.name,
                            "数据来源单位统一社会信用代码": dept.uscc,
                            "备注": SYNTHETIC_NOTE,
                        }
                    )
                )
            # the banks' loans in the village: the households' and the village's other borrowers
            loans = round(loans * 3 + 200, 1)
            npl = round(loans * npl_ratio, 1)
            new = round(loans * 0.004, 1)
            town_loans, town_npl, town_new = town_loans + loans, town_npl + npl, town_new + new
            areas.append(
                _area(
                    f"{town}{village}村民委员会",
                    make_uscc(rng, "54", COUNTY),
                    "行政村",
                    code,
                    loans,
                    npl,
                    new,
                    HOUSEHOLDS,
                )
            )
        areas.append(
            _area(
                f"濮阳县{town}人民政府",
                make_uscc(rng, "11", COUNTY),
                "乡镇",
                f"{town_code}000",
                town_loans,
                town_npl,
                town_new,
                HOUSEHOLDS * len(villages),
            )
        )
    for row in areas:
        row.cells["数据来源单位"] = dept.name
        row.cells["数据来源单位统一社会信用代码"] = dept.uscc
    return Rural(areas, homes)
