"""A synthetic Puyang: companies, individual businesses and persons with valid codes.

Everything here is made up and says so: the names are composed from common parts, the codes
are computed to be valid but belong to nobody, and the ID numbers use real Puyang division codes
with invented birth dates and sequence numbers. Used by the demo, the tests and the benchmark.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.codes import id_check_char, org_check_char, regno_check_digit, uscc_check_char

# GB/T 2260 codes of Puyang and its counties (reference/domain.md §2.4)
PUYANG_DIVISIONS = {
    "410902": "华龙区",
    "410922": "清丰县",
    "410923": "南乐县",
    "410926": "范县",
    "410927": "台前县",
    "410928": "濮阳县",
}
PLACE_PREFIX = {
    "410902": "濮阳市华龙区",
    "410922": "清丰县",
    "410923": "南乐县",
    "410926": "范县",
    "410927": "台前县",
    "410928": "濮阳县",
}
_BRANDS = [
    "鑫源",
    "恒达",
    "中原",
    "龙都",
    "绿城",
    "宏图",
    "金堤",
    "昆吾",
    "帝丘",
    "澶州",
    "瑞丰",
    "华信",
    "永盛",
    "博远",
    "天成",
    "新亚",
    "立新",
    "卓越",
    "顺发",
    "嘉禾",
    "润泽",
    "兴业",
    "开元",
    "九洲",
    "众诚",
    "海川",
    "德润",
    "汇通",
    "银河",
    "鼎盛",
    "宏昌",
    "泰和",
    "安康",
    "福源",
    "金桥",
    "龙祥",
    "远航",
    "晨光",
    "明德",
    "万佳",
]
_TRADES = [
    "商贸",
    "建材",
    "化工",
    "石油机械",
    "物流",
    "餐饮管理",
    "建筑工程",
    "食品",
    "农业科技",
    "电子科技",
    "家具",
    "纺织",
    "医药",
    "汽车服务",
    "房地产开发",
    "环保科技",
    "文化传媒",
    "物业服务",
    "装饰工程",
    "新能源",
]
_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "有限公司", "有限公司")
_SHOPS = [
    "日用品店",
    "便利店",
    "五金店",
    "小吃店",
    "副食店",
    "服装店",
    "手机店",
    "理发店",
    "修理部",
    "烟酒店",
    "药店",
    "饭店",
]
_SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "高",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "韩",
    "冯",
    "邓",
    "曹",
    "许",
]
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
    "刚",
    "桂英",
    "建国",
    "志强",
    "海燕",
    "红",
    "霞",
    "鹏",
    "辉",
    "玉兰",
    "建华",
]
USCC_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True, slots=True)
class Org:
    name: str
    uscc: str
    reg_no: str
    legal_rep: str
    division: str

    @property
    def org_code(self) -> str:
        return self.uscc[8:17]

    @property
    def is_individual_business(self) -> bool:
        return self.uscc.startswith("92")


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    id_number: str
    birth: date


def make_uscc(rng: random.Random, prefix: str, division: str) -> str:
    body = "MA" + "".join(rng.choice(USCC_BODY_CHARS) for _ in range(6))
    first17 = prefix + division + body + org_check_char(body)
    return first17 + uscc_check_char(first17)


def make_id(rng: random.Random, division: str, birth: date) -> str:
    body = division + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + id_check_char(body)


def make_reg_no(rng: random.Random, division: str) -> str:
    body = division + f"{rng.randrange(10**8):08d}"
    return body + regno_check_digit(body)


class World:
    """A reproducible population: the same seed gives the same subjects."""

    def __init__(self, seed: int = 2016, organisations: int = 2000, persons: int = 500) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        divisions = list(PUYANG_DIVISIONS)
        self.orgs: list[Org] = []
        names: set[str] = set()
        while len(self.orgs) < organisations:
            div = rng.choice(divisions)
            individual = rng.random() < 0.15
            # Large worlds (the benchmark's) need more names than one part of each kind gives.
            long_names = len(self.orgs) > 5000
            if individual:
                owner = self.person_name() + (rng.choice(_GIVEN)[:1] if long_names else "")
                name = f"{PLACE_PREFIX[div]}{owner}{rng.choice(_SHOPS)}"
                prefix = "92"
            else:
                brand = rng.choice(_BRANDS) + (rng.choice(_BRANDS) if long_names else "")
                trade, form = rng.choice(_TRADES), rng.choice(_FORMS)
                name = f"{PLACE_PREFIX[div]}{brand}{trade}{form}"
                prefix = "91"
            if name in names:
                continue
            names.add(name)
            self.orgs.append(
                Org(
                    name,
                    make_uscc(rng, prefix, div),
                    make_reg_no(rng, div),
                    self.person_name(),
                    div,
                )
            )
        self.persons = [self._person(rng.choice(divisions)) for _ in range(persons)]

    def person_name(self) -> str:
        return self.rng.choice(_SURNAMES) + self.rng.choice(_GIVEN)

    def _person(self, division: str) -> Person:
        # adults only, so that nobody in the sample is a minor at the decision date
        birth = date(1955, 1, 1) + timedelta(days=self.rng.randrange(365 * 45))
        return Person(self.person_name(), make_id(self.rng, division, birth), birth)

    def org(self) -> Org:
        # skewed, as in real data: a few subjects collect many records, most only one or two
        return self.orgs[int(len(self.orgs) * self.rng.random() ** 2)]

    def person(self) -> Person:
        return self.rng.choice(self.persons)

    def day(self, start: date = date(2021, 1, 1), end: date = date(2026, 10, 31)) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days))
