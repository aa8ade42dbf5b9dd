"""Publicity is decided by date, at read time, in one place (issue 10 item 1).

Every output is asked twice with the clock set explicitly, and ``xinyong daily`` never runs:
one second before Beijing midnight on the last day of publicity (the record is shown, the
entry triggers), and at Beijing midnight after it (gone; 16:00 UTC of the same UTC day, so a
UTC "today" would still show it). The stored states stay 公示中 throughout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.cli import point_at, reset_cli
from fixtures.deliveries import HENGDA, LI, WANG, XINYUAN, penalty, run, write_csv
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from disclosure.rows import COURT, SXBZX_HEADERS, debtor
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_bulk_check, run_check
from xinyong.cli import app as cli_app
from xinyong.clock import CHINA, FixedClock
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.disclosure.in_force import effective_state, ended, in_force
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.records import states
from xinyong.records.models import records
from xinyong.reports.service import issue_report
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.web.app import create_app

LAST = date(2026, 9, 1)  # the last day of publicity of every dated record below
ON_LAST_DAY = datetime(2026, 9, 1, 23, 59, 59, tzinfo=CHINA)
MIDNIGHT_AFTER = datetime(2026, 9, 2, 0, 0, 0, tzinfo=CHINA)

WARNING_WSH = "濮市监罚决字〔2026〕07001号"  # 警告 of 2026-06-01: 轻微, three months
KEPT_WSH = "濮市监罚决字〔2026〕07002号"  # 罚款 with a long period: public on both days
LISTED_DOC = "濮发改信〔2026〕31号"  # XINYUAN on YZSX until 2026-09-01
KEPT_DOC = "濮发改信〔2026〕32号"  # HENGDA on YZSX without an end
PERSON_DOC = "濮发改信〔2026〕33号"  # WANG (a natural person) on YZSX: never public

CLERK = Principal(role=Role.CLERK, name="env-clerk", dept_uscc="11410900PY00000577")


@dataclass(frozen=True)
class World:
    settings: Settings
    engine: Engine
    clock: FixedClock
    catalog: Catalog
    xinyuan: int
    li: int
    wang: int


def _person_on_yzsx(catalog: Catalog) -> dict[str, str]:
    row = list_row(headers(catalog, "YZSX"), XINYUAN, PERSON_DOC, NDRC, catalog=catalog)
    row.update(
        {
            "主体名称": WANG.name,
            "主体类别": "自然人",
            "统一社会信用代码": "",
            "证件类型": "身份证",
            "证件号码": WANG.id_number,
            "法定代表人/主要负责人": "",
        }
    )
    return row


def _load(engine: Engine, catalog: Catalog, tmp: Path) -> None:
    rows = [
        penalty(
            XINYUAN,
            WARNING_WSH,
            处罚决定日期="2026/06/01",
            处罚类别="警告",
            处罚内容="警告",
            **{"罚款金额（万元）": ""},
            处罚有效期="2099/12/31",
        ),
        penalty(HENGDA, KEPT_WSH, 处罚决定日期="2026/06/01", 处罚有效期="2099/12/31"),
    ]
    receipt = run(engine, catalog, write_csv(tmp / "cf.csv", rows))
    assert (receipt.new, receipt.rejected) == (2, 0), receipt.rejects
    hs = headers(catalog, "YZSX")
    yzsx = [
        list_row(hs, XINYUAN, LISTED_DOC, NDRC, valid_until=LAST.isoformat(), catalog=catalog),
        list_row(hs, HENGDA, KEPT_DOC, NDRC, catalog=catalog),
        _person_on_yzsx(catalog),
    ]
    receipt = deliver(engine, catalog, tmp, "YZSX", yzsx, name="yzsx.csv")
    assert (receipt.new, receipt.rejected) == (3, 0), receipt.rejects
    court = [debtor(LI, "（2025）豫0928执2104号", MD_YXQZ=LAST.isoformat())]
    receipt = run(
        engine,
        catalog,
        write_csv(tmp / "zx.csv", court, SXBZX_HEADERS),
        dataset="SXBZX",
        dept=COURT,
    )
    assert (receipt.new, receipt.rejected) == (1, 0), receipt.rejects


@pytest.fixture
def world(settings: Settings, catalog: Catalog, tmp_path: Path) -> Iterator[World]:
    """The test database with an explicit clock (on the last day), loaded without daily."""
    clock = FixedClock(ON_LAST_DAY)
    clocked = settings.model_copy(
        update={
            "clock": clock,
            "data_dir": tmp_path / "data",
            "rate_limit_search_per_minute": 0,
            "rate_limit_list_per_minute": 0,
            "rate_limit_report_per_minute": 0,
        }
    )
    engine = make_engine(clocked)
    upgrade_schema(engine)
    seed_database(engine, catalog)  # as `db upgrade` leaves it (tests/conftest.py's engine)
    _load(engine, catalog, tmp_path)
    with engine.connect() as conn:

        def sid(column: str, value: str) -> int:
            found = conn.execute(select(subjects.c.id).where(subjects.c[column] == value))
            return int(found.scalar_one())

        ids = sid("uscc", XINYUAN.uscc), sid("id_number", LI.id_number)
        wang = sid("id_number", WANG.id_number)
        # every dated record ends on LAST, so the boundary is the same for all outputs
        ends = dict(
            conn.execute(
                select(records.c.dataset, records.c.publicity_max_end).where(
                    records.c.subject_id.in_(ids)
                )
            ).all()
        )
    assert ends == {"XZCF": LAST, "YZSX": LAST, "SXBZX": LAST}, ends
    yield World(clocked, engine, clock, catalog, ids[0], ids[1], wang)
    _no_daily_ran(engine)
    engine.dispose()


def _no_daily_ran(engine: Engine) -> None:
    """The stored states never moved: what the outputs showed was decided by date."""
    with engine.connect() as conn:
        stored = set(conn.execute(select(records.c.state)).scalars())
    assert stored == {states.PUBLISHED}


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, engine=world.engine, catalog=world.catalog)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


BOUNDARY = [
    pytest.param(ON_LAST_DAY, True, id="last-day"),
    pytest.param(MIDNIGHT_AFTER, False, id="midnight-after"),
]


# -- the rule itself ----------------------------------------------------------------------------


def test_the_rule_counts_the_last_day_and_not_the_next() -> None:
    public = {states.PUBLISHED, states.OBJECTED}
    assert in_force(states.PUBLISHED, LAST, LAST, counted=public)
    assert not in_force(states.PUBLISHED, LAST, date(2026, 9, 2), counted=public)
    assert in_force(states.OBJECTED, None, date(2099, 1, 1), counted=public)
    assert not in_force(states.EXPIRED, None, LAST, counted=public)
    assert not in_force(states.PUBLISHED, None, date(2026, 9, 2), valid_until=LAST, counted=public)
    assert in_force(states.REPAIRED, LAST, LAST, counted={states.REPAIRED})
    assert not ended(None, date(2099, 1, 1)) and ended(LAST, date(2026, 9, 2))
    assert effective_state(states.PUBLISHED, LAST, date(2026, 9, 2)) == states.EXPIRED
    assert effective_state(states.PUBLISHED, LAST, LAST) == states.PUBLISHED
    assert effective_state(states.OBJECTED, LAST, date(2026, 9, 2)) == states.OBJECTED


# -- public outputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_publicity_list_page_and_api(
    world: World, client: TestClient, at: datetime, shown: bool
) -> None:
    world.clock.set(at)
    api = client.get("/api/v1/publicity/xzcf")
    page = client.get("/publicity/xzcf")
    assert api.status_code == page.status_code == 200
    numbers = {i["value"] for r in api.json()["items"] for i in r["items"] if i["code"] == "CF_WSH"}
    assert (WARNING_WSH in numbers) is shown and KEPT_WSH in numbers
    assert api.json()["total"] == (2 if shown else 1)
    assert (WARNING_WSH in page.text) is shown and KEPT_WSH in page.text


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_black_list_page_and_api(
    world: World, client: TestClient, at: datetime, shown: bool
) -> None:
    world.clock.set(at)
    api = client.get("/api/v1/lists/black", params={"size": 100})
    page = client.get("/lists/black")
    assert api.status_code == page.status_code == 200
    body = json.dumps(api.json(), ensure_ascii=False)
    for text in (body, page.text):
        assert (LISTED_DOC in text) is shown and KEPT_DOC in text
        # the court's list publishes persons, masked, while the entry is in force
        assert (LI.name in text) is shown and LI.id_number not in text
        # a natural person on 严重失信主体名单 is kept off public output, as on his own page
        assert WANG.name not in text and PERSON_DOC not in text
        assert WANG.id_number[:6] + "********" + WANG.id_number[-4:] not in text
    assert api.json()["total"] == (3 if shown else 1)


def test_a_person_on_the_serious_list_is_not_on_the_public_black_list(
    world: World, client: TestClient
) -> None:
    """The same gate as the subject page: the person's page is 404 for the public."""
    subjects_seen = [r["subject"]["id"] for r in client.get("/api/v1/lists/black").json()["items"]]
    assert world.wang not in subjects_seen
    assert client.get(f"/api/v1/subjects/{world.wang}").status_code == 404
    assert client.get(f"/subjects/{world.wang}").status_code == 404
    assert client.get("/api/v1/lists/red").json()["items"] == []


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_subject_page_and_api(world: World, client: TestClient, at: datetime, shown: bool) -> None:
    world.clock.set(at)
    profile = client.get(f"/api/v1/subjects/{world.xinyuan}").json()
    assert profile["counts"] == ({"XZCF": 1, "YZSX": 1} if shown else {})
    found = client.get(f"/api/v1/subjects/{world.xinyuan}/records").json()
    body = json.dumps(found, ensure_ascii=False)
    assert (WARNING_WSH in body) is shown and (LISTED_DOC in body) is shown
    page = client.get(f"/subjects/{world.xinyuan}", params={"tab": "行政处罚"})
    assert page.status_code == 200 and (WARNING_WSH in page.text) is shown
    # a person on the court's list only: public while listed, then not found at all
    assert client.get(f"/api/v1/subjects/{world.li}").status_code == (200 if shown else 404)


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_name_search(world: World, client: TestClient, at: datetime, shown: bool) -> None:
    world.clock.set(at)
    found = client.get("/api/v1/subjects", params={"q": LI.name}).json()
    assert (LI.name in json.dumps(found, ensure_ascii=False)) is shown


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_public_report(world: World, at: datetime, shown: bool) -> None:
    world.clock.set(at)
    with world.engine.begin() as conn:
        report = issue_report(
            conn, world.catalog, Principal.public("test"), world.xinyuan, kind="public"
        )
    assert (WARNING_WSH in report.snapshot) is shown and (LISTED_DOC in report.snapshot) is shown


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_cli_subject_shows_the_state_of_the_day(
    world: World, monkeypatch: pytest.MonkeyPatch, at: datetime, shown: bool
) -> None:
    world.clock.set(at)
    point_at(world.settings, monkeypatch)  # the command line reads the test's clock
    reset_cli()
    try:
        result = CliRunner().invoke(
            cli_app, ["subject", XINYUAN.uscc, "--purpose", "日常监管", "--json"]
        )
    finally:
        reset_cli()
    assert result.exit_code == 0, result.output
    recs: dict[str, list[dict[str, Any]]] = json.loads(result.stdout)["records"]
    expected = states.PUBLISHED if shown else states.EXPIRED
    assert {r["state"] for rs in recs.values() for r in rs} == {expected}
    assert {r["stored_state"] for rs in recs.values() for r in rs} == {states.PUBLISHED}


# -- checks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("at", "shown"), BOUNDARY)
def test_an_expired_list_entry_triggers_no_measure(
    world: World, measures: Measures, at: datetime, shown: bool
) -> None:
    world.clock.set(at)
    with world.engine.begin() as conn:
        single = run_check(
            conn, world.catalog, measures, CLERK, subject_code=XINYUAN.uscc, matter="procurement"
        )
        bulk = run_bulk_check(
            conn, world.catalog, measures, CLERK, [(XINYUAN.uscc, None)], matter="procurement"
        )
    ids = {m["id"] for m in single.measures}
    # HN34-1: the joint-punishment measure of every serious list (an art. 33 entry of 发改委)
    assert ("HN34-1" in ids) is shown
    # the list entry and the 警告 (a penalty hit) both end on LAST
    assert sorted(h["dataset"] for h in single.hits) == (["XZCF", "YZSX"] if shown else [])
    (row,) = bulk.rows
    assert bool(row.hits) is shown


def test_a_check_answers_for_the_day_it_is_given(world: World, measures: Measures) -> None:
    """An explicit day wins over the clock (an "as of" check)."""
    world.clock.set(MIDNIGHT_AFTER)
    with world.engine.begin() as conn:
        res = run_check(
            conn,
            world.catalog,
            measures,
            CLERK,
            subject_code=XINYUAN.uscc,
            matter="procurement",
            today=LAST,
        )
    assert "HN34-1" in {m["id"] for m in res.measures}
