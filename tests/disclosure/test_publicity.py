"""Publicity periods (公示期限): every rule generation and class, from the catalogue's rule sets,
computed for stored records on both databases; broken rule files fail with file and rule."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import (
    ENV,
    HENGDA,
    LONGDU,
    SHOP,
    WANG,
    XINYUAN,
    Company,
    penalty,
    record_by_wsh,
    run,
    stored_records,
    write_csv,
)
from sqlalchemy import Engine

from disclosure.rows import COURT, SXBZX_HEADERS, debtor
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.disclosure.publicity import (
    LONG_TERM,
    PenaltyClass,
    RuleBook,
    add_period,
    load_rule_book,
    rule_book,
)
from xinyong.errors import CatalogError
from xinyong.sample.datasets import PENALTY_HEADERS

ROOT = Path(__file__).resolve().parents[2] / "catalog"
HEADERS = [
    *PENALTY_HEADERS,
    *(h for h in ("暂扣或吊销证照名称及编号",) if h not in PENALTY_HEADERS),
]
D = date.fromisoformat
MINOR, GENERAL, SERIOUS = PenaltyClass.MINOR, PenaltyClass.GENERAL, PenaltyClass.SERIOUS
FOOD_LAW = "《中华人民共和国食品安全法》第一百三十五条"
SAFETY_LAW = "《中华人民共和国安全生产法》第九十九条"


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return rule_book(ROOT)


# (case, decision, 处罚类别, 罚款万元, other cells, rule set, class, min end, max end)
CASES: list[tuple[str, str, str, str, dict[str, str], str, PenaltyClass, str, str]] = [
    # 2017 notice: fixed 1 / 3 years, counted from publication (decision + 7 days)
    ("2017-轻微", "2018-03-01", "警告", "", {}, "ndrc-2017", MINOR, "2019-03-08", "2019-03-08"),
    (
        "2017-一般",
        "2018-03-01",
        "罚款",
        "0.5",
        {},
        "ndrc-2017",
        GENERAL,
        "2019-03-08",
        "2019-03-08",
    ),
    (
        "2017-严重",
        "2018-03-01",
        "吊销许可证件",
        "",
        {},
        "ndrc-2017",
        SERIOUS,
        "2021-03-08",
        "2021-03-08",
    ),
    # 527号: 一般 3 months – 1 year, 严重 6 months – 3 years, 特定严重 not repairable
    ("527-轻微", "2020-06-10", "警告", "", {}, "ndrc-527-2019", MINOR, "2020-09-17", "2021-06-17"),
    (
        "527-一般",
        "2020-06-10",
        "罚款",
        "0.5",
        {},
        "ndrc-527-2019",
        GENERAL,
        "2020-09-17",
        "2021-06-17",
    ),
    (
        "527-严重",
        "2020-06-10",
        "吊销许可证件",
        "",
        {},
        "ndrc-527-2019",
        SERIOUS,
        "2020-12-17",
        "2023-06-17",
    ),
    (
        "527-特定严重",
        "2020-06-10",
        "吊销许可证件",
        "",
        {"CF_YJ": FOOD_LAW},
        "ndrc-527-2019",
        SERIOUS,
        "2023-06-17",
        "2023-06-17",
    ),
    # the published sample of reference §3.4: decision 2019-10-10, 公示截止期 2020-10-17
    (
        "527-样例",
        "2019-10-10",
        "罚款",
        "0.5",
        {},
        "ndrc-527-2019",
        GENERAL,
        "2020-01-17",
        "2020-10-17",
    ),
    # NDRC order 58: 3 months – 3 years for every class; 安全生产 at least 1 year
    ("58-轻微", "2024-01-15", "警告", "", {}, "ndrc-58-2023", MINOR, "2024-04-15", "2027-01-15"),
    (
        "58-一般",
        "2024-01-15",
        "罚款",
        "0.5",
        {},
        "ndrc-58-2023",
        GENERAL,
        "2024-04-15",
        "2027-01-15",
    ),
    (
        "58-严重",
        "2024-01-15",
        "吊销许可证件",
        "",
        {},
        "ndrc-58-2023",
        SERIOUS,
        "2024-04-15",
        "2027-01-15",
    ),
    (
        "58-安全生产",
        "2024-01-15",
        "罚款",
        "2",
        {"CF_YJ": SAFETY_LAW},
        "ndrc-58-2023",
        GENERAL,
        "2025-01-15",
        "2027-01-15",
    ),
    # GB-22: 轻微 ≤ 3 months, 一般 3 months – 1 year, 严重 1 – 3 years
    ("GB22-轻微", "2025-09-01", "警告", "", {}, "gb-22-2025", MINOR, "2025-09-01", "2025-12-01"),
    (
        "GB22-小额罚款",
        "2025-09-01",
        "罚款",
        "0.2",
        {},
        "gb-22-2025",
        MINOR,
        "2025-09-01",
        "2025-12-01",
    ),
    (
        "GB22-一般",
        "2025-09-01",
        "罚款",
        "0.5",
        {},
        "gb-22-2025",
        GENERAL,
        "2025-12-01",
        "2026-09-01",
    ),
    (
        "GB22-严重",
        "2025-09-01",
        "吊销许可证件",
        "",
        {},
        "gb-22-2025",
        SERIOUS,
        "2026-09-01",
        "2028-09-01",
    ),
    # 2026 《信用修复管理办法》: the same classes, from the document's date
    (
        "2026-轻微",
        "2026-05-20",
        "通报批评",
        "",
        {},
        "ndrc-36-2026",
        MINOR,
        "2026-05-20",
        "2026-08-20",
    ),
    (
        "2026-小额罚款",
        "2026-05-20",
        "罚款",
        "0.3",
        {},
        "ndrc-36-2026",
        MINOR,
        "2026-05-20",
        "2026-08-20",
    ),
    (
        "2026-一般",
        "2026-05-20",
        "罚款",
        "0.5",
        {},
        "ndrc-36-2026",
        GENERAL,
        "2026-08-20",
        "2027-05-20",
    ),
    (
        "2026-没收",
        "2026-05-20",
        "没收非法财物",
        "",
        {},
        "ndrc-36-2026",
        GENERAL,
        "2026-08-20",
        "2027-05-20",
    ),
    (
        "2026-严重",
        "2026-05-20",
        "限制从业",
        "",
        {},
        "ndrc-36-2026",
        SERIOUS,
        "2027-05-20",
        "2029-05-20",
    ),
    # several types: the longest class wins
    (
        "2026-多种",
        "2026-05-20",
        "警告;罚款;吊销许可证件",
        "0.5",
        {},
        "ndrc-36-2026",
        SERIOUS,
        "2027-05-20",
        "2029-05-20",
    ),
    (
        "2026-警告罚款",
        "2026-05-20",
        "警告;罚款",
        "0.5",
        {},
        "ndrc-36-2026",
        GENERAL,
        "2026-08-20",
        "2027-05-20",
    ),
]


def _data(types: str, fine: str, cells: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"CF_CFLB": types, "CF_YJ": "《中华人民共和国产品质量法》第四十九条"}
    if fine:
        data["CF_NR_FK"] = fine
    data.update(cells)
    return data


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_generation_and_class(book: RuleBook, case: tuple[Any, ...]) -> None:
    _, decision, types, fine, cells, rule, cls, min_end, max_end = case
    pub = book.compute("XZCF", D(decision), _data(types, fine, cells))
    assert pub is not None
    assert (pub.rule_id, pub.penalty_class) == (rule, cls)
    assert (pub.min_end, pub.max_end) == (D(min_end), D(max_end))


@pytest.mark.parametrize(
    ("decision", "rule"),
    [
        ("2016-12-31", "ndrc-2017"),  # older than every rule set: the first one
        ("2017-07-31", "ndrc-2017"),
        ("2019-06-30", "ndrc-2017"),
        ("2019-07-01", "ndrc-527-2019"),
        ("2023-04-30", "ndrc-527-2019"),
        ("2023-05-01", "ndrc-58-2023"),
        ("2025-06-21", "ndrc-58-2023"),
        ("2025-06-22", "gb-22-2025"),
        ("2026-03-31", "gb-22-2025"),
        ("2026-04-01", "ndrc-36-2026"),
    ],
)
def test_the_rule_set_follows_the_decision_date(book: RuleBook, decision: str, rule: str) -> None:
    assert book.rule_set_for(D(decision)).id == rule


def test_the_henan_cap_bounds_a_longer_restriction(book: RuleBook) -> None:
    market = "濮阳市市场监督管理局"
    data = {"CF_CFLB": "限制从业", "CF_CFJG": market, "CF_YXQ": "2099-12-31"}
    # SAMR-45 art. 13: shown for the restriction period, but at most 5 years (Henan art. 19)
    capped = book.compute("XZCF", D("2024-01-15"), data)
    assert capped is not None and capped.max_end == D("2029-01-15")
    shorter = book.compute("XZCF", D("2024-01-15"), {**data, "CF_YXQ": "2027-06-30"})
    assert shorter is not None and shorter.max_end == D("2027-06-30")
    # another sector: the class's own 3 years
    other = book.compute("XZCF", D("2024-01-15"), {**data, "CF_CFJG": "濮阳市生态环境局"})
    assert other is not None and other.max_end == D("2027-01-15")


def test_licences_and_lists(book: RuleBook) -> None:
    licence = book.compute("XZXK", D("2024-03-01"), {})
    assert licence is not None and (licence.min_end, licence.max_end) == (None, LONG_TERM)
    dated = book.compute("XZXK", D("2024-03-01"), {"XK_YXQZI": "2029-02-28"})
    assert dated is not None and dated.max_end == D("2029-02-28")
    court = book.compute("SXBZX", D("2025-03-10"), {})
    assert court is not None and (court.min_end, court.max_end) == (None, LONG_TERM)
    serious = book.compute("YZSX", D("2026-05-20"), {})
    assert serious is not None and (serious.min_end, serious.max_end) == (
        D("2027-05-20"),
        D("2029-05-20"),
    )
    own = book.compute("YZSX", D("2026-05-20"), {"MD_YXQZ": "2028-01-01"})
    assert own is not None and own.max_end == D("2028-01-01")
    assert book.compute("FRJC", D("2024-03-01"), {}) is None  # no rule: nothing computed
    assert book.compute("XZCF", None, {"CF_CFLB": "罚款"}) is None


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        ("2024-01-31", "P1M", "2024-02-29"),
        ("2023-08-31", "P6M", "2024-02-29"),
        ("2024-02-29", "P1Y", "2025-02-28"),
        ("2025-09-01", "P0D", "2025-09-01"),
        ("2098-06-01", "P3Y", "2099-12-31"),  # nothing runs past the long-term date
        ("2025-09-01", "long_term", "2099-12-31"),
    ],
)
def test_periods_add_like_calendars(start: str, period: str, end: str) -> None:
    assert add_period(D(start), period) == D(end)


# -- broken rule files ----------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(ROOT, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "named"),
    [
        ("2026-ndrc-36.yaml", "{min: P3M, max: P1Y}", "{min: P3M, max: 一年}", "max"),
        ("2026-ndrc-36.yaml", "{min: P1Y, max: P3Y}  # [S]", "{min: P5Y, max: P3Y}", "长于"),
        ("2025-gb-22.yaml", "  XZXK: {", "  XZXX: {", "XZXX"),
        ("2023-ndrc-58.yaml", "max_until_field: CF_YXQ", "max_until_field: CF_NOPE", "CF_NOPE"),
        ("2019-ndrc-527.yaml", "types: [责令停产停业, 吊销许可证件]", "types: [停业]", "停业"),
        ("2026-ndrc-36.yaml", "      严重: {min: P1Y, max: P3Y}  # [S]\n", "", "严重"),
        (
            "2026-ndrc-36.yaml",
            "effective_from: 2026-04-01",
            "effective_from: 2025-06-22",
            "生效日期",
        ),
        ("2026-ndrc-36.yaml", "id: ndrc-36-2026", "id: gb-22-2025", "重复"),
        ("2026-ndrc-36.yaml", "henan_cap: P5Y", "henan_cap: P5Y\nhenan_kap: P5Y", "henan_kap"),
        ("2017-ndrc-notice.yaml", "datasets:", "datasets: [", "YAML"),
        ("classes.yaml", "  限制从业: 严重  # [S]\n", "", "限制从业"),
        ("classes.yaml", "通报批评: 轻微", "通报批评: 很轻", "通报批评"),
    ],
)
def test_a_broken_rule_file_names_file_and_rule(
    tmp_path: Path, file: str, old: str, new: str, named: str
) -> None:
    root = _copy(tmp_path)
    _edit(root / "publicity" / file, old, new)
    with pytest.raises(CatalogError) as exc:
        load_rule_book(root, load_catalog(root))
    message = exc.value.message
    assert named in message
    assert file in message or "classes.yaml" in message


def test_the_rule_set_is_named_in_the_error(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "publicity" / "2025-gb-22.yaml", "{min: P3M, max: P1Y}", "{min: 3, max: P1Y}")
    with pytest.raises(CatalogError) as exc:
        load_rule_book(root)
    assert "2025-gb-22.yaml" in exc.value.message and "gb-22-2025" in exc.value.message


def test_a_missing_rule_folder_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    shutil.rmtree(root / "publicity")
    with pytest.raises(CatalogError) as exc:
        load_rule_book(root)
    assert exc.value.code == "PUBLICITY_MISSING"


# -- stored records, both databases --------------------------------------------------------


def _row(n: int, case: tuple[Any, ...]) -> dict[str, str]:
    name, decision, types, fine, cells, *_ = case
    companies: list[Company] = [XINYUAN, HENGDA, LONGDU, SHOP]
    extra: dict[str, str] = {
        "处罚类别": types.replace(";", "；"),
        "罚款金额（万元）": fine,
        "处罚决定日期": decision.replace("-", "/"),
        # a restriction longer than the period would extend it (SAMR-45): one year here
        "处罚有效期": f"{int(decision[:4]) + 1}{decision[4:]}".replace("-", "/"),
    }
    if "吊销许可证件" in types:
        extra["暂扣或吊销证照名称及编号"] = "食品经营许可证 JY14109020012345"
    if "没收" in types:
        extra["没收违法所得、没收非法财物的金额（万元）"] = "0.8"
    if "CF_YJ" in cells:
        extra["处罚依据"] = cells["CF_YJ"]
    row = penalty(companies[n % 4], f"濮市监罚决字〔{decision[:4]}〕{n:05d}号（{name}）")
    row.update(extra)
    return row


def test_stored_records_carry_their_publicity(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [_row(n, case) for n, case in enumerate(CASES)]
    receipt = run(engine, catalog, write_csv(tmp_path / "all.csv", rows, HEADERS))
    assert (receipt.new, receipt.rejected) == (len(CASES), 0), receipt.rejects
    for n, case in enumerate(CASES):
        *_, rule, cls, min_end, max_end = case
        record = record_by_wsh(engine, rows[n]["行政处罚决定书文号"])
        assert record["publicity_rule"] == rule, case[0]
        assert record["publicity_class"] == cls.value, case[0]
        assert str(record["publicity_min_end"]) == min_end, case[0]
        assert str(record["publicity_max_end"]) == max_end, case[0]
        assert record["state"] == "公示中"


def test_the_computed_end_wins_and_a_different_one_is_a_warning(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        # NDRC order 58: 3 years from the decision, 2026-05-01; the department wrote 1 year
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", 公示截止期="2024/05/01"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号", 公示截止期="2026/05/01"),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows))
    assert receipt.rejected == 0
    mismatches = [w for w in receipt.warnings if w["code"] == "PUBLICITY_END_MISMATCH"]
    assert len(mismatches) == 1
    (warning,) = mismatches
    assert (warning["row"], warning["field"], warning["value"]) == (2, "CF_GSJZQ", "2024-05-01")
    assert "2026-05-01" in warning["message"] and "以计算结果为准" in warning["message"]
    for row in rows:
        record = record_by_wsh(engine, row["行政处罚决定书文号"])
        assert str(record["publicity_max_end"]) == "2026-05-01"


def test_a_correction_is_computed_again(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    wsh = "濮市监罚决字〔2025〕00311号"
    first = penalty(XINYUAN, wsh, 处罚决定日期="2025/09/01", 处罚有效期="2099/12/31")
    run(engine, catalog, write_csv(tmp_path / "a.csv", [first], HEADERS))
    assert record_by_wsh(engine, wsh)["publicity_class"] == "一般"
    corrected = {
        **first,
        "处罚类别": "罚款；吊销许可证件",
        "暂扣或吊销证照名称及编号": "食品经营许可证 JY14109020054321",
    }
    receipt = run(engine, catalog, write_csv(tmp_path / "b.csv", [corrected], HEADERS))
    assert receipt.updated == 1
    record = record_by_wsh(engine, wsh)
    assert (record["publicity_class"], str(record["publicity_max_end"])) == ("严重", "2028-09-01")


def test_a_persons_penalty_and_a_licence_get_theirs(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    # a natural person's penalty has a period too (it is only never public)
    cells = {"罚款金额（万元）": "2", "处罚有效期": "2099/12/31", "处罚决定日期": "2024/01/15"}
    row = penalty(WANG, "濮环罚〔2024〕00012号", ENV, **cells)
    run(engine, catalog, write_csv(tmp_path / "p.csv", [row]), dept=ENV)
    record = record_by_wsh(engine, row["行政处罚决定书文号"])
    assert (record["publicity_rule"], str(record["publicity_max_end"])) == (
        "ndrc-58-2023",
        "2027-01-15",
    )


def test_list_entries_get_their_period(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    rows = [
        debtor(XINYUAN, "（2025）豫0902执1001号"),
        debtor(HENGDA, "（2025）豫0902执1002号", MD_YXQZ="2027-03-10"),
    ]
    path = write_csv(tmp_path / "court.csv", rows, headers=SXBZX_HEADERS)
    receipt = run(engine, catalog, path, dataset="SXBZX", dept=COURT)
    assert (receipt.new, receipt.rejected) == (2, 0), receipt.rejects
    ends = {r["data"]["ZX_AH"]: r["publicity_max_end"] for r in stored_records(engine, "SXBZX")}
    assert ends == {"（2025）豫0902执1001号": LONG_TERM, "（2025）豫0902执1002号": D("2027-03-10")}
