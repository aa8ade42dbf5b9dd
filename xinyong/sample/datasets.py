"""Synthetic rows for the sample datasets, with a known share of bad rows of every kind.

Each row comes with what the platform must make of it (``expect``): ``None`` for a good row,
``"pending"`` for a row without any subject code, or the error code it must be rejected with.
Tests compare receipts against these expectations; the demo and the benchmark use the files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.sample.world import Org, World

SYNTHETIC_NOTE = "合成样例数据，非真实记录"

_CASES = (
    # 违法行为类型, 违法事实, 处罚依据
    (
        "销售不合格产品",
        "经抽样检验，当事人销售的电线电缆导体电阻不合格，货值金额{v}元。",
        "《中华人民共和国产品质量法》第四十九条",
    ),
    (
        "未按规定公示年度报告",
        "当事人未在规定期限内通过国家企业信用信息公示系统报送年度报告。",
        "《企业信息公示暂行条例》第十八条",
    ),
    (
        "超标排放大气污染物",
        "经现场监测，当事人锅炉废气中颗粒物排放浓度超过国家标准{v}%。",
        "《中华人民共和国大气污染防治法》第九十九条",
    ),
    (
        "未取得食品经营许可从事食品经营",
        "当事人未取得食品经营许可证，在经营场所销售预包装食品，违法所得{v}元。",
        "《中华人民共和国食品安全法》第一百二十二条",
    ),
    (
        "安全生产违法行为",
        "当事人未按规定对从业人员进行安全生产教育和培训，未如实记录培训情况。",
        "《中华人民共和国安全生产法》第九十七条",
    ),
    (
        "未按规定办理施工许可",
        "当事人未取得施工许可证擅自施工，工程合同价款{v}万元。",
        "《建筑工程施工许可管理办法》第十二条",
    ),
    (
        "道路运输违法行为",
        "当事人车辆未按规定进行年度审验，从事道路货物运输经营。",
        "《中华人民共和国道路运输条例》第七十条",
    ),
    (
        "价格违法行为",
        "当事人销售商品未明码标价，经责令改正后仍未改正。",
        "《价格违法行为行政处罚规定》第十三条",
    ),
)

PENALTY_HEADERS = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)",
    "法定代表人",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]

# Bad-row kinds and the error code the platform must answer with.
BAD_KINDS: dict[str, str] = {
    "uscc_check": "USCC_CHECK",
    "uscc_length": "USCC_LENGTH",
    "uscc_char": "USCC_CHAR",
    "id_check": "ID_CHECK",
    "date_invalid": "DATE_INVALID",
    "date_format": "DATE_FORMAT",
    "missing_wsh": "FIELD_REQUIRED",
    "enum_invalid": "ENUM_INVALID",
    "amount_words": "DECIMAL_INVALID",
    "amount_negative": "DECIMAL_NEGATIVE",
    "fine_missing": "FIELD_REQUIRED_IF",
    "date_order": "DATE_ORDER",
    "date_future": "DATE_FUTURE",
    "dept_mismatch": "DEPT_MISMATCH",
    "simple_procedure": "HN_SIMPLE_PROCEDURE",
    "duplicate": "KEY_CONFLICT_IN_FILE",
}


@dataclass(slots=True)
class SampleRow:
    cells: dict[str, str]
    expect: str | None = None  # None = accepted, "pending", or the rejection code


@dataclass(frozen=True, slots=True)
class Dept:
    uscc: str
    name: str


def _date_text(d: date, style: int) -> str:
    match style % 4:
        case 0:
            return d.strftime("%Y/%m/%d")
        case 1:
            return d.isoformat()
        case 2:
            return f"{d.year}年{d.month}月{d.day}日"
        case _:
            return d.strftime("%Y%m%d")


def penalty_rows(
    world: World,
    dept: Dept,
    n: int,
    *,
    bad_share: float = 0.03,
    pending_share: float = 0.005,
    person_share: float = 0.08,
    other_dept: Dept | None = None,
    today: date = date(2026, 11, 1),
) -> Iterator[SampleRow]:
    """``n`` 行政处罚 rows of one department; about ``bad_share`` of them bad, of every kind."""
    rng = world.rng
    kinds = list(BAD_KINDS)
    year_seq: dict[int, int] = {}
    recent: list[SampleRow] = []
    bad_seen = 0
    short = dept.name.removeprefix("濮阳市")[:2]
    for i in range(n):
        roll = rng.random()
        if roll < bad_share and recent:
            # bad kinds in turn, so that any few dozen bad rows hold every kind
            kind = kinds[bad_seen % len(kinds)]
            bad_seen += 1
        elif roll < bad_share + pending_share:
            kind = "pending"
        else:
            kind = "person" if rng.random() < person_share else "org"
        if kind == "duplicate":
            first = rng.choice(recent)
            if first.expect is None:
                # The same key with other content: both rows are rejected, neither is stored.
                # (An identical repeat is no error: it counts as unchanged.)
                first.expect = "KEY_CONFLICT_IN_FILE"
                again = dict(first.cells)
                again["违法事实"] += "（更正）"
                yield SampleRow(again, "KEY_CONFLICT_IN_FILE")
                continue
            kind = "org"
        decided = world.day(end=today - timedelta(days=10))
        seq = year_seq[decided.year] = year_seq.get(decided.year, 0) + 1
        case_type, facts, basis = rng.choice(_CASES)
        fine_yuan = rng.choice((500, 2000, 5000, 10000, 20000, 50000, 100000, 300000))
        cells = dict.fromkeys(PENALTY_HEADERS, "")
        cells.update(
            {
                "行政处罚决定书文号": f"濮{short}罚决字〔{decided.year}〕{seq:05d}号",
                "违法行为类型": case_type,
                "违法事实": facts.format(v=rng.randrange(1000, 90000)),
                "处罚依据": basis,
                "处罚类别": "罚款",
                "处罚内容": f"罚款人民币{fine_yuan}元",
                "罚款金额（万元）": _wan(fine_yuan),
                "处罚决定日期": _date_text(decided, i),
                "处罚有效期": _date_text(decided + timedelta(days=365), i + 1),
                "处罚机关": dept.name,
                "处罚机关统一社会信用代码": dept.uscc,
                "数据来源单位": dept.name,
                "数据来源单位统一社会信用代码": dept.uscc,
                "备注": SYNTHETIC_NOTE,
            }
        )
        expect: str | None = None
        if kind in ("person", "id_check", "simple_procedure"):
            person = world.person()
            cells.update(
                {
                    "行政相对人名称": person.name,
                    "行政相对人类别": "自然人",
                    "证件类型": "身份证",
                    "证件号码": person.id_number,
                }
            )
            if fine_yuan <= 200:
                fine_yuan = 500
        else:
            cells.update(_org_cells(world.org()))
        if rng.random() < 0.1 and kind == "org":
            cells["处罚类别"] = "警告;罚款"
            cells["处罚内容"] = f"警告，并处罚款人民币{fine_yuan}元"
        match kind:
            case "pending":
                cells["行政相对人代码_1(统一社会信用代码)"] = ""
                expect = "pending"
            case "uscc_check":
                code = cells["行政相对人代码_1(统一社会信用代码)"]
                last = "0" if code[-1] != "0" else "1"
                cells["行政相对人代码_1(统一社会信用代码)"] = code[:-1] + last
            case "uscc_length":
                cells["行政相对人代码_1(统一社会信用代码)"] = cells[
                    "行政相对人代码_1(统一社会信用代码)"
                ][:-1]
            case "uscc_char":
                code = cells["行政相对人代码_1(统一社会信用代码)"]
                cells["行政相对人代码_1(统一社会信用代码)"] = code[:10] + "O" + code[11:]
            case "id_check":
                num = cells["证件号码"]
                cells["证件号码"] = num[:-1] + ("1" if num[-1] != "1" else "2")
            case "date_invalid":
                cells["处罚决定日期"] = f"{decided.year}-02-30"
            case "date_format":
                cells["处罚决定日期"] = f"{decided.year}.{decided.month:02d}"
            case "missing_wsh":
                cells["行政处罚决定书文号"] = ""
            case "enum_invalid":
                cells["处罚类别"] = "罚金"
            case "amount_words":
                cells["罚款金额（万元）"] = "五千元"
            case "amount_negative":
                cells["罚款金额（万元）"] = "-1"
            case "fine_missing":
                cells["罚款金额（万元）"] = ""
            case "date_order":
                cells["处罚有效期"] = _date_text(decided - timedelta(days=30), 1)
            case "date_future":
                future = today + timedelta(days=400)
                cells["处罚决定日期"] = _date_text(future, 1)
                cells["处罚有效期"] = _date_text(future + timedelta(days=365), 1)
            case "dept_mismatch":
                if other_dept is None:
                    kind = "org"
                else:
                    cells["数据来源单位统一社会信用代码"] = other_dept.uscc
            case "simple_procedure":
                cells["处罚类别"] = "警告"
                cells["处罚内容"] = "警告"
                cells["罚款金额（万元）"] = ""
        if kind in BAD_KINDS:
            expect = BAD_KINDS[kind]
        row = SampleRow(cells, expect)
        if expect is None and len(recent) < 1000:
            recent.append(row)
        yield row


def _org_cells(org: Org) -> dict[str, str]:
    """The 双公示 subject block of an organisation."""
    return {
        "行政相对人名称": org.name,
        "行政相对人类别": "个体工商户" if org.is_individual_business else "法人及非法人组织",
        "行政相对人代码_1(统一社会信用代码)": org.uscc,
        "法定代表人": org.legal_rep,
    }


def _wan(yuan: int) -> str:
    """Yuan to the 万元 the 双公示 template wants: 2000 → 0.2."""
    whole, rest = divmod(yuan, 10000)
    return str(whole) if not rest else f"{whole}.{rest:04d}".rstrip("0")


def licence_rows(world: World, dept: Dept, n: int) -> Iterator[SampleRow]:
    """行政许可 rows, all good, with long-term (2099/12/31) validity now and then."""
    rng = world.rng
    kinds = (
        ("食品经营许可", "食品经营许可证", "普通"),
        ("建筑工程施工许可", "建筑工程施工许可证", "普通"),
        ("排污许可", "排污许可证", "普通"),
        ("道路运输经营许可", "道路运输经营许可证", "普通"),
        ("危险化学品经营许可", "危险化学品经营许可证", "特许"),
        ("营业执照登记", "营业执照", "登记"),
    )
    short = dept.name.removeprefix("濮阳市")[:2]
    for i in range(n):
        org = world.org()
        decided = world.day()
        title, cert, kind = rng.choice(kinds)
        long_term = rng.random() < 0.2
        yield SampleRow(
            {
                **_org_cells(org),
                "行政许可决定文书名称": f"{title}决定书",
                "行政许可决定文书号": f"濮{short}许字〔{decided.year}〕{i + 1:05d}号",
                "许可类别": kind,
                "许可证书名称": cert,
                "许可编号": f"PY{decided.year}{i + 1:06d}",
                "许可内容": f"准予{title}",
                "许可决定日期": _date_text(decided, i),
                "有效期自": _date_text(decided, i),
                "有效期至": "2099/12/31"
                if long_term
                else _date_text(decided + timedelta(days=1825), i),
                "许可机关": dept.name,
                "许可机关统一社会信用代码": dept.uscc,
                "数据来源单位": dept.name,
                "数据来源单位统一社会信用代码": dept.uscc,
                "备注": SYNTHETIC_NOTE,
            }
        )


_ROADS = ("开州路", "中原路", "京开大道", "胜利路", "黄河路")


def registration_rows(world: World, dept: Dept) -> Iterator[SampleRow]:
    """法人登记基础信息 for every organisation of the world, some with former names."""
    rng = world.rng
    for org in world.orgs:
        founded = world.day(date(1998, 1, 1), date(2024, 12, 31))
        former = ""
        if rng.random() < 0.1 and not org.is_individual_business:
            former = org.name.replace("有限公司", "商行").replace("有限责任公司", "经营部")
        yield SampleRow(
            {
                "统一社会信用代码": org.uscc,
                "机构名称": org.name,
                "曾用名": former,
                "注册号": org.reg_no,
                "法定代表人或负责人姓名": org.legal_rep,
                "成立日期": founded.isoformat(),
                "注册资金（万元）": str(rng.choice((3, 10, 50, 100, 500, 1000, 5000))),
                "住所": f"{org.name[:6]}{rng.choice(_ROADS)}{rng.randrange(1, 300)}号",
                "经营范围": "一般项目："
                + rng.choice(
                    ("日用百货销售", "建筑材料销售", "技术服务", "餐饮服务", "道路货物运输")
                ),
                "登记状态": rng.choice(("存续", "存续", "存续", "在业", "吊销", "注销")),
                "登记管理部门名称": dept.name,
                "数据来源单位": dept.name,
                "数据来源单位统一社会信用代码": dept.uscc,
            }
        )
