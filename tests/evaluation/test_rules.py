"""Every rule kind of an evaluation model, on both databases: fixed points with bounds, decay by
age, repeats, points by an item's value, item filters, list entries in force, hard rules, no
double counting, dimension bounds, and records that stop counting the day they should
(repaired, publicity ended, listing ended). Scores are read through a full run, as the
platform reads them."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, update

from evaluation.rows import TODAY, company, listing, person, record
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import Result, result_of, run_model
from xinyong.records.models import records


def run(conn: Connection, catalog: Catalog, model: str, subject: int, on: date = TODAY) -> Result:
    with conn.begin():
        done = run_model(conn, catalog, model_book(catalog).get(model), as_of=on, actor="test")
        return result_of(conn, model, subject, run_id=done.id)


def points(catalog: Catalog, model: str, result: Result) -> dict[str, float]:
    codes = [i.code for i in model_book(catalog).get(model).indicators]
    return {c: p for c, p in zip(codes, result.points, strict=True) if p}


def test_a_company_without_records_has_the_base_score(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
    found = run(conn, catalog, "QYGGXY", c)
    assert (found.score, found.grade, found.klass, found.hard) == (1000, "A", "B", None)
    assert points(catalog, "QYGGXY", found) == {}


def test_fixed_points_by_penalty_class_with_the_indicator_floor(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "XZCF", klass="严重", decided=date(2026, 5, 1))
        record(conn, c, "XZCF", klass="轻微", decided=date(2026, 5, 2))
        for day in range(8):  # 8 light penalties: -5 each, bounded at -30
            record(conn, c, "XZCF", klass="轻微", decided=date(2026, 4, 1 + day))
    found = run(conn, catalog, "QYGGXY", c)
    assert points(catalog, "QYGGXY", found) == {"XZCF_YZ": -80, "XZCF_QW": -30}
    assert found.score == 1000 - 80 - 30
    assert found.grade == "CCC" and found.klass == "C"


def test_decay_by_age_of_the_decision(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "XZCF", klass="一般", decided=TODAY - timedelta(days=100))  # full
        record(conn, c, "XZCF", klass="一般", decided=TODAY - timedelta(days=800))  # half
        record(conn, c, "XZCF", klass="一般", decided=TODAY - timedelta(days=1200))  # none
        record(conn, c, "XZCF", klass="轻微", decided=TODAY - timedelta(days=400))  # none
    found = run(conn, catalog, "QYGGXY", c)
    # repeat x2 for every record after the oldest counted one: -20 + 2 x (-10)... the oldest
    # counted (-10, older) counts once, the newer -20 twice
    assert points(catalog, "QYGGXY", found) == {"XZCF_YB": -10 + 2 * -20}


def test_a_repeat_counts_its_factor(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
        for month in (2, 3, 4):
            record(conn, c, "XZCF", klass="严重", decided=date(2026, month, 1))
    found = run(conn, catalog, "QYGGXY", c)
    assert points(catalog, "QYGGXY", found) == {"XZCF_YZ": -80 - 2 * 80 - 2 * 80}


def test_points_by_value_and_a_decay_window_keep_only_the_latest_grade(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "NSXY", decided=date(2024, 4, 1), data={"NS_XYDJ": "D"})  # too old
        record(conn, c, "NSXY", decided=date(2026, 4, 1), data={"NS_XYDJ": "A"})
        d = company(conn)
        record(conn, d, "NSXY", decided=date(2026, 4, 1), data={"NS_XYDJ": "M"})
    assert points(catalog, "QYGGXY", run(conn, catalog, "QYGGXY", c)) == {"NSXY": 40}
    assert points(catalog, "QYGGXY", run(conn, catalog, "QYGGXY", d)) == {}


def test_an_item_filter_and_an_upper_bound(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "XYCN", data={"CN_LYZT": "未履约"})
        record(conn, c, "XYCN", data={"CN_LYZT": "履约中"})  # neither indicator
        for _ in range(9):
            record(conn, c, "XYCN", data={"CN_LYZT": "履约"})  # +5 each, at most +30
    assert points(catalog, "QYGGXY", run(conn, catalog, "QYGGXY", c)) == {
        "CN_WLY": -40,
        "CN_LY": 30,
    }


def test_list_entries_count_while_in_force(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
        listing(conn, c, "JYYC", "JYYC")  # in force
        listing(conn, c, "ZDGZ", "WATCH", valid_until=TODAY - timedelta(days=1))  # ended
        listing(conn, c, "ZDGZ", "WATCH", status="exited")  # removed
        listing(conn, c, "SXHMD", "RED", listed=TODAY + timedelta(days=3))  # not yet
    assert points(catalog, "QYGGXY", run(conn, catalog, "QYGGXY", c)) == {"JYYC_ML": -50}


def test_a_serious_dishonesty_listing_forces_the_lowest_class(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        c = company(conn)
        listing(conn, c, "YZSX", "HN33", valid_until=TODAY + timedelta(days=30))
        for _ in range(3):
            record(conn, c, "XZXK")  # +2 each: points do not lift a hard rule
    found = run(conn, catalog, "QYGGXY", c)
    assert (found.grade, found.klass, found.hard) == ("C", "D", "YZSX")
    assert found.score == 1000 - 300 + 6
    # removed from the list the day after its validity: back to its points
    later = run(conn, catalog, "QYGGXY", c, TODAY + timedelta(days=31))
    assert (later.grade, later.klass, later.hard) == ("A", "B", None)


def test_a_listed_person_drops_to_150_until_removed(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        p = person(conn)
        record(conn, p, "BZRY", data={"RY_RYJB": "省级"})
        rid = listing(conn, p, "SXBZX", "SXBZX")
    found = run(conn, catalog, "GRXYJF", p)
    assert (found.score, found.grade, found.hard) == (150, "信用极差", "SXMD")
    with conn.begin():
        conn.execute(update(records).where(records.c.id == rid).values(state="期满停止公示"))
    restored = run(conn, catalog, "GRXYJF", p)
    assert (restored.score, restored.grade, restored.hard) == (1060, "信用优秀", None)


def test_nanyang_repeats_double_and_good_deeds_add(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        p = person(conn)
        record(conn, p, "XZCF", klass="一般", decided=date(2026, 1, 5))
        record(conn, p, "XZCF", klass="轻微", decided=date(2026, 2, 5))
        for n in range(3):
            record(conn, p, "GYXW", decided=date(2026, 5, 1 + n), data={"GY_LX": "志愿服务"})
        record(conn, p, "GYXW", decided=date(2026, 5, 9), data={"GY_LX": "无偿献血"})
        record(conn, p, "GYXW", decided=date(2024, 5, 9), data={"GY_LX": "志愿服务"})  # old
    found = run(conn, catalog, "GRXYJF", p)
    assert points(catalog, "GRXYJF", found) == {"SX_YB": -20 - 40, "ZYFW": 30, "WCXX": 20}
    assert found.score == 1000 - 60 + 50


def test_repaired_and_expired_records_stop_counting_the_day_they_should(
    conn: Connection, catalog: Catalog
) -> None:
    end = TODAY + timedelta(days=10)
    with conn.begin():
        c = company(conn)
        expiring = record(conn, c, "XZCF", klass="严重", until=end)
        repaired = record(conn, c, "XZCF", klass="一般")
    assert points(catalog, "QYGGXY", run(conn, catalog, "QYGGXY", c, end)) == {
        "XZCF_YZ": -80,
        "XZCF_YB": -20,
    }
    # the last day of publicity still counts; the day after it does not (daily or not)
    day_after = run(conn, catalog, "QYGGXY", c, end + timedelta(days=1))
    assert points(catalog, "QYGGXY", day_after) == {"XZCF_YB": -20}
    # repair approved: the record is 已修复 from that day and no run counts it
    with conn.begin():
        conn.execute(update(records).where(records.c.id == repaired).values(state="已修复"))
    assert points(catalog, "QYGGXY", run(conn, catalog, "QYGGXY", c, end)) == {"XZCF_YZ": -80}
    assert expiring


def test_deregistered_companies_and_persons_are_not_scored(
    conn: Connection, catalog: Catalog
) -> None:
    with conn.begin():
        gone = company(conn, status="注销")
        p = person(conn)
        live = company(conn)
    with conn.begin():
        done = run_model(
            conn, catalog, model_book(catalog).get("QYGGXY"), as_of=TODAY, actor="test"
        )
    assert result_of(conn, "QYGGXY", live, run_id=done.id).grade == "A"
    for other in (gone, p):
        with pytest.raises(Exception, match="评价范围"):
            result_of(conn, "QYGGXY", other, run_id=done.id)


@pytest.fixture
def custom(catalog_dir: Path) -> Catalog:
    """The catalogue with one test model: two indicators that both match every penalty, and a
    dimension bounded at +15."""
    (catalog_dir / "evaluation" / "CSMX.yaml").write_text(
        """
code: CSMX
name: 测试模型
description: 测试
source: 测试
subjects: [法人及非法人组织]
base: 100
bounds: {floor: 0, ceiling: 200}
dimensions:
  - code: A
    name: 甲
    indicators:
      - {code: FIRST, name: 先到, match: {datasets: [XZCF]}, points: -10}
      - {code: SECOND, name: 后到, match: {datasets: [XZCF], classes: [一般]}, points: -99}
  - code: B
    name: 乙
    max_points: 15
    indicators:
      - {code: LIC, name: 许可, match: {datasets: [XZXK]}, points: 10}
      - {code: HON, name: 荣誉, match: {datasets: [BZRY]}, points: 10}
grades:
  - {code: 好, label: 好, min: 100}
  - {code: 差, label: 差}
""",
        encoding="utf-8",
    )
    return load_catalog(catalog_dir)


def test_no_record_counts_twice_and_a_dimension_is_bounded(
    conn: Connection, custom: Catalog
) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "XZCF", klass="一般")
        record(conn, c, "XZXK")
        record(conn, c, "BZRY", data={"RY_RYJB": "市级"})
    found = run(conn, custom, "CSMX", c)
    assert points(custom, "CSMX", found) == {"FIRST": -10, "LIC": 10, "HON": 10}
    assert found.score == 100 - 10 + 15 and found.grade == "好"
    assert shutil  # the catalogue copy is the fixture's


def test_the_floor_of_the_score(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        p = person(conn)
        for month in range(1, 7):
            record(conn, p, "XZCF", klass="严重", decided=date(2026, month, 2))
        for month in range(1, 7):
            record(conn, p, "XZCF", klass="一般", decided=date(2026, month, 3))
    found = run(conn, catalog, "GRXYJF", p)
    assert points(catalog, "GRXYJF", found) == {"SX_YZ": -500, "SX_YB": -200}
    assert found.score == 300 and found.grade == "信用极差"
