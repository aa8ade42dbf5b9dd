"""The subject page, its API and the credit report apply the conflict rules alike (issue 10
item 3): a red-list entry (守信激励) is shown as 暂停 with the rule's reason while a dishonesty
listing is in force, and as current again from Beijing midnight after the listing's last day,
without ``xinyong daily``. The exit notice of a listing is on the subject's page and in the
public API (Henan art. 37)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, XINYUAN
from lists.rows import NDRC, deliver, headers, list_row, record_by_doc
from sqlalchemy import Connection, Engine, select

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA, FixedClock
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.disclosure import visible_records
from xinyong.lists import desk
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.measures.conflicts import Current, suspended
from xinyong.measures.loaded import configured
from xinyong.reports.service import issue_report
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.web.app import create_app

LAST = date(2026, 9, 1)  # the last day of XINYUAN's dishonesty listing
ON_LAST_DAY = datetime(2026, 9, 1, 23, 59, 59, tzinfo=CHINA)
MIDNIGHT_AFTER = datetime(2026, 9, 2, 0, 0, 0, tzinfo=CHINA)
RED_DOC = "濮发改红〔2026〕11号"
BLACK_DOC = "濮发改信〔2026〕41号"
EXIT_DOC = "濮发改信〔2026〕42号"  # HENGDA's listing, ended early by the department
CLERK = Principal(role=Role.CLERK, name="ndrc-clerk", dept_uscc=NDRC.uscc, source="test")


@dataclass(frozen=True)
class World:
    settings: Settings
    engine: Engine
    clock: FixedClock
    catalog: Catalog
    xinyuan: int
    hengda: int


@pytest.fixture
def world(settings: Settings, catalog: Catalog, tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(datetime(2026, 8, 1, 10, 0, tzinfo=CHINA))
    clocked = settings.model_copy(
        update={"clock": clock, "data_dir": tmp_path / "data", "rate_limit_report_per_minute": 0}
    )
    engine = make_engine(clocked)
    upgrade_schema(engine)
    seed_database(engine, catalog)
    red_hs, black_hs = headers(catalog, "SXHMD"), headers(catalog, "YZSX")
    # the red entry first (nothing refuses it), then the listing that suspends it
    red = [list_row(red_hs, XINYUAN, RED_DOC, NDRC, dataset="SXHMD", catalog=catalog)]
    receipt = deliver(engine, catalog, tmp_path, "SXHMD", red, name="red.csv")
    assert (receipt.new, receipt.rejected) == (1, 0), receipt.rejects
    black = [
        list_row(black_hs, XINYUAN, BLACK_DOC, NDRC, valid_until=LAST.isoformat()),
        list_row(black_hs, HENGDA, EXIT_DOC, NDRC),
    ]
    receipt = deliver(engine, catalog, tmp_path, "YZSX", black, name="black.csv")
    assert (receipt.new, receipt.rejected) == (2, 0), receipt.rejects
    measures = load_measures(measures_dir(catalog), catalog)
    ended = record_by_doc(engine, EXIT_DOC)["id"]
    with engine.begin() as conn:
        desk.exit_early(
            conn,
            catalog,
            measures,
            CLERK,
            ended,
            reason="performed",
            basis="已履行行政处罚决定",
        )
    with engine.connect() as conn:
        ids = dict(conn.execute(select(subjects.c.uscc, subjects.c.id)).tuples().all())
    yield World(clocked, engine, clock, catalog, ids[XINYUAN.uscc], ids[HENGDA.uscc])
    engine.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, engine=world.engine, catalog=world.catalog)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


BOUNDARY = [
    pytest.param(ON_LAST_DAY, True, id="last-day"),
    pytest.param(MIDNIGHT_AFTER, False, id="midnight-after"),
]


@pytest.mark.parametrize(("at", "paused"), BOUNDARY)
def test_red_entry_is_paused_while_the_listing_is_in_force(
    world: World, client: TestClient, at: datetime, paused: bool
) -> None:
    world.clock.set(at)
    red_id = record_by_doc(world.engine, RED_DOC, "SXHMD")["id"]
    profile = client.get(f"/api/v1/subjects/{world.xinyuan}").json()
    assert [s["record_id"] for s in profile["suspended"]] == ([red_id] if paused else [])
    if paused:
        (s,) = profile["suspended"]
        assert s["rule"] == "RED-BLACK-LISTED" and s["state_label"] == "暂停"
        assert "严重失信主体名单" in s["reason"] and "河南省社会信用条例" in s["basis"]
    found = client.get(
        f"/api/v1/subjects/{world.xinyuan}/records", params={"tab": "守信激励"}
    ).json()
    (red,) = found["items"]
    assert red["state_label"] == ("暂停" if paused else "公示中")
    assert ("suspended" in red) is paused
    assert ("守信激励暂停" in (red["public_reason"] or "")) is paused
    (listed,) = client.get("/api/v1/lists/red").json()["items"]
    assert listed["state_label"] == ("暂停" if paused else "公示中")
    assert ("守信激励暂停" in client.get("/lists/red").text) is paused
    page = client.get(f"/subjects/{world.xinyuan}", params={"tab": "守信激励"})
    assert page.status_code == 200
    assert ("守信激励暂停" in page.text) is paused and ("RED-BLACK-LISTED" in page.text) is paused
    # the report decides the same on the same day
    with world.engine.begin() as conn:
        report = issue_report(
            conn, world.catalog, Principal.public("test"), world.xinyuan, kind="public"
        )
    notes = " ".join(report.content["notes"])
    assert ("守信激励信息已中止" in notes) is paused
    assert (RED_DOC in report.snapshot) is not paused


def test_subject_without_a_listing_shows_its_red_entry_as_current(
    world: World, client: TestClient
) -> None:
    """HENGDA's listing has ended: nothing suspends anything."""
    world.clock.set(ON_LAST_DAY)
    profile = client.get(f"/api/v1/subjects/{world.hengda}").json()
    assert profile["suspended"] == []


def test_exit_notice_on_the_subject_page_and_in_the_public_api(
    world: World, client: TestClient
) -> None:
    world.clock.set(ON_LAST_DAY)
    profile = client.get(f"/api/v1/subjects/{world.hengda}").json()
    (notice,) = profile["exit_notices"]
    assert notice["dataset"] == "YZSX" and "已履行行政处罚决定" in notice["basis"]
    assert notice["served_on"] == "2026-08-01" and HENGDA.name in notice["reasons"]
    page = client.get(f"/subjects/{world.hengda}")
    assert "移出公告" in page.text and "已履行行政处罚决定" in page.text
    black = client.get("/api/v1/lists/black").json()
    assert [n["subject_id"] for n in black["exit_notices"]] == [world.hengda]
    # XINYUAN's listing has no exit notice (it ends by its validity; daily publishes that one)
    assert client.get(f"/api/v1/subjects/{world.xinyuan}").json()["exit_notices"] == []
    assert "移出公告" not in client.get(f"/subjects/{world.xinyuan}").text
    assert json.dumps(black, ensure_ascii=False).count("已履行行政处罚决定") == 1


def test_red_list_judges_its_page_as_each_subject_page_does(world: World, tmp_path: Path) -> None:
    """The red list judges the conflict rules for all its page's subjects in one read
    (``public_red_suspensions``), reading the penalty dataset only as far back as the rules
    look, and a subject's page (``red_suspensions``) through the same read for its one
    subject: both give the suspensions judged from every record the public sees of each
    subject (``visible_records``, as the credit report judges), on the days around the edge of
    the three-year window of RED-SERIOUS-PENALTY."""
    from fixtures.deliveries import SAMR, penalty, run, write_csv

    from xinyong.portal.service import public_red_suspensions, red_suspensions

    red_hs = headers(world.catalog, "SXHMD")
    row = list_row(
        red_hs, HENGDA, "濮发改红〔2026〕12号", NDRC, dataset="SXHMD", catalog=world.catalog
    )
    receipt = deliver(world.engine, world.catalog, tmp_path, "SXHMD", [row], name="red2.csv")
    assert receipt.rejected == 0, receipt.rejects
    rows = [
        penalty(HENGDA, wsh="濮市监罚决字〔2024〕00101号", 处罚类别="责令停产停业",
                处罚决定日期="2024/05/01", 处罚有效期="2024/05/01"),
    ]  # fmt: skip
    path = write_csv(tmp_path / "xzcf.csv", rows)
    receipt = run(world.engine, world.catalog, path, dataset="XZCF", dept=SAMR)
    assert receipt.rejected == 0, receipt.rejects
    public = Principal.public("test")
    seen: set[tuple[date, str]] = set()
    with world.engine.connect() as conn:
        shown = [
            dict(r._mapping)
            for r in conn.execute(
                select(subjects).where(subjects.c.id.in_([world.xinyuan, world.hengda]))
            )
        ]
        for on in (date(2026, 8, 1), date(2027, 4, 30), date(2027, 5, 1), date(2027, 5, 2), LAST):
            one_by_one: dict[int, Any] = {}
            for s in shown:
                expected = _judged_from_visible(conn, world.catalog, s, on)
                # the subject's page (red_suspensions) reads through the list's set-based read
                assert red_suspensions(conn, world.catalog, public, s, None, frozenset(), on) == (
                    expected
                )
                one_by_one.update(expected)
            assert public_red_suspensions(conn, world.catalog, shown, on) == one_by_one
            seen |= {(on, rule.id) for _, rule in one_by_one.values()}
    # the window's edge was judged: the penalty suspends on its third anniversary, not after
    assert (date(2027, 5, 1), "RED-SERIOUS-PENALTY") in seen
    assert (date(2027, 5, 2), "RED-SERIOUS-PENALTY") not in seen
    assert (LAST, "RED-BLACK-LISTED") in seen


def _judged_from_visible(
    conn: Connection, catalog: Catalog, subject: dict[str, Any], on: date
) -> dict[int, Any]:
    """The conflict rules judged from every record the public sees of ``subject`` on ``on``
    (no window, every item as shown): the definition the set-based read must meet."""
    shown = visible_records(conn, catalog, Principal.public("test"), subject, as_of=on)
    current = [
        ((r.id, r.dataset), Current(r.dataset, {i.code: i.value for i in r.items}, r.decision_date))
        for r in shown
    ]
    found = suspended(configured()[1], catalog.lists, current, on)
    return {rid: (dataset, rule) for (rid, dataset), rule in found.items()}
