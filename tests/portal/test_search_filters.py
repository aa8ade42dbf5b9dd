"""Narrowing a name search (主体类别, 区县, 行业, only subjects with 失信 records), what a result
shows beside a name (法定代表人, black lists, 失信 records in public view), a subject's
standing for its page's banner, and the home page's figures; on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fixtures.deliveries import (
    FRJC_HEADERS,
    HENGDA,
    LONGDU,
    XINYUAN,
    penalty,
    registration,
    run,
    write_csv,
)
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine, select

from xinyong.accounts.roles import Principal
from xinyong.catalog.loader import Catalog
from xinyong.clock import StartedClock
from xinyong.db import read_only
from xinyong.errors import XinyongError
from xinyong.portal import figures as home
from xinyong.portal.figures import home_figures
from xinyong.portal.search import SearchFilters, search_subjects
from xinyong.portal.standing import (
    dishonest_datasets,
    registrations,
    search_marks,
    subject_standing,
)
from xinyong.subjects.models import subjects

PUBLIC = Principal.public("203.0.113.9")
INDUSTRY = "行业分类代码"


@pytest.fixture
def ids(engine: Engine, catalog: Catalog, tmp_path: Path) -> dict[str, int]:
    """鑫源 (华龙区, 批发和零售业) with a penalty and on the 严重失信主体名单; 恒达 (清丰县, 制造业)
    and 龙都 (濮阳县, 制造业) with nothing against them."""
    regs = [
        registration(XINYUAN, **{INDUSTRY: "F5211"}),
        registration(HENGDA, **{INDUSTRY: "C3031"}),
        registration(LONGDU, **{INDUSTRY: "C3512", "登记状态": "吊销"}),
    ]
    path = write_csv(tmp_path / "frjc.csv", regs, [*FRJC_HEADERS, INDUSTRY])
    assert run(engine, catalog, path, dataset="FRJC").rejected == 0
    fine = penalty(
        XINYUAN, "濮市监罚决字〔2026〕00501号", 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15"
    )
    path = write_csv(tmp_path / "xzcf.csv", [fine])
    assert run(engine, catalog, path).rejected == 0
    row = list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕9号", NDRC)
    deliver(engine, catalog, tmp_path, "YZSX", [row])
    with engine.connect() as conn:
        found = dict(conn.execute(select(subjects.c.uscc, subjects.c.id)).all())
    return {
        name: found[c.uscc]
        for name, c in (("xinyuan", XINYUAN), ("hengda", HENGDA), ("longdu", LONGDU))
    }


def _names(engine: Engine, catalog: Catalog, **wanted: object) -> set[str]:
    with engine.connect() as conn:
        page = search_subjects(
            conn,
            "有限",
            PUBLIC,
            catalog_root=catalog.root,
            filters=SearchFilters(**wanted),  # type: ignore[arg-type]
            dishonest_datasets=dishonest_datasets(catalog),
        )
    return {i.name for i in page.items}


def test_filters_narrow_a_name_search(
    engine: Engine, catalog: Catalog, ids: dict[str, int]
) -> None:
    every = {XINYUAN.name, HENGDA.name, LONGDU.name}
    assert _names(engine, catalog) == every
    assert _names(engine, catalog, district="410922") == {HENGDA.name}
    assert _names(engine, catalog, industry="C") == {HENGDA.name, LONGDU.name}
    assert _names(engine, catalog, industry="F") == {XINYUAN.name}
    assert _names(engine, catalog, dishonest=True) == {XINYUAN.name}
    assert _names(engine, catalog, dishonest=True, district="410922") == set()
    assert _names(engine, catalog, category="个体工商户") == set()
    assert _names(engine, catalog, category="法人及非法人组织") == every


@pytest.mark.parametrize(
    "wanted", [{"category": "外星人"}, {"district": "110101"}, {"industry": "Z"}]
)
def test_a_filter_outside_its_choices_is_refused(
    engine: Engine, catalog: Catalog, wanted: dict[str, str]
) -> None:
    with engine.connect() as conn, pytest.raises(XinyongError) as refused:
        search_subjects(
            conn, "有限", PUBLIC, catalog_root=catalog.root, filters=SearchFilters(**wanted)
        )
    assert refused.value.code == "SEARCH_FILTER_INVALID"


def test_results_show_legal_rep_black_lists_and_dishonesty(
    engine: Engine, catalog: Catalog, ids: dict[str, int]
) -> None:
    with engine.connect() as conn:
        regs = registrations(conn, catalog, list(ids.values()))
        marks = search_marks(conn, catalog, list(ids.values()))
    assert regs[ids["xinyuan"]].legal_rep == XINYUAN.legal_rep
    assert regs[ids["hengda"]].industry == "C3031"
    assert marks[ids["xinyuan"]].black_lists == ("严重失信主体名单",)
    assert marks[ids["xinyuan"]].dishonest == 2  # the penalty and the list entry
    assert ids["hengda"] not in marks


def test_standing_for_the_banner(engine: Engine, catalog: Catalog, ids: dict[str, int]) -> None:
    with engine.connect() as conn:
        listed = subject_standing(conn, catalog, PUBLIC, ids["xinyuan"])
        clean = subject_standing(conn, catalog, PUBLIC, ids["hengda"])
        ended = subject_standing(conn, catalog, PUBLIC, ids["longdu"])
    assert [(s.name, s.count, s.tone) for s in listed.lists] == [("严重失信主体名单", 1, "danger")]
    assert listed.tone == "danger" and listed.objected == 0
    assert clean.tone == "none" and clean.lists == ()
    assert ended.registration_ended == "吊销" and ended.tone == "warn"


def test_home_figures_count_what_anyone_may_see(
    engine: Engine, catalog: Catalog, ids: dict[str, int]
) -> None:
    with engine.connect() as conn:
        figures = home_figures(conn, catalog)
    assert figures.organisations == 3 and figures.businesses == 0
    assert figures.records == 5  # three registrations, the penalty, the list entry
    assert len(figures.per_month) == 12 and figures.per_month[-1].month == "2026-12"
    assert figures.per_month[-3].penalties == 1  # 2026-10
    assert figures.penalties_this_month == 0
    assert dict(figures.per_tab)["失信惩戒"] == 1


def test_a_delivery_is_counted_after_the_visitor_who_notices_it(
    engine: Engine, catalog: Catalog, ids: dict[str, int], tmp_path: Path, clock: StartedClock
) -> None:
    """The home page never waits for a recount: after a delivery the visitor is answered with
    the kept figures and a thread counts again; the next visitor sees the new ones. A new day
    is counted before answering (yesterday's counts would hold what expired at midnight)."""
    with engine.connect() as conn:
        before = home_figures(conn, catalog)
    fine = penalty(
        HENGDA, "濮市监罚决字〔2026〕00502号", 处罚决定日期="2026/10/20", 处罚有效期="2027/10/20"
    )
    assert run(engine, catalog, write_csv(tmp_path / "more.csv", [fine])).rejected == 0
    with engine.connect() as conn:
        answered = home_figures(conn, catalog)
    home.settle()
    with engine.connect() as conn:
        after = home_figures(conn, catalog)
    assert answered == before and answered.records == 5
    assert after.records == 6 and after.per_month[-3].penalties == 2
    # the next day: 龙都's registration is the same, but the month's window moved
    clock.advance(timedelta(days=31))
    with engine.connect() as conn:
        next_month = home_figures(conn, catalog)
    assert next_month.month != after.month and next_month.per_month[-4].penalties == 2


def test_a_recount_reads_while_a_delivery_holds_the_write_lock(
    engine: Engine, catalog: Catalog, ids: dict[str, int], tmp_path: Path
) -> None:
    """The recount only reads: it counts while another process's delivery holds SQLite's write
    lock (it used to queue for that lock, wait out the busy timeout and fail, so the home page
    kept its old figures for as long as the delivery ran)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one write lock")
    import sqlite3

    with engine.connect() as conn:
        home_figures(conn, catalog)
    fine = penalty(
        HENGDA, "濮市监罚决字〔2026〕00503号", 处罚决定日期="2026/10/21", 处罚有效期="2027/10/21"
    )
    assert run(engine, catalog, write_csv(tmp_path / "more.csv", [fine])).rejected == 0
    delivery = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        delivery.execute("BEGIN IMMEDIATE")  # a delivery under way elsewhere
        with engine.connect() as conn:  # the visitor who notices: a recount starts
            home_figures(read_only(conn), catalog)
        home.settle()
        with engine.connect() as conn:
            after = home_figures(read_only(conn), catalog)
    finally:
        delivery.execute("ROLLBACK")
        delivery.close()
    assert after.records == 6
