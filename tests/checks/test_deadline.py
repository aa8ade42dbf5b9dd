"""Feedback deadlines on the working-day calendar: one reaching into a year whose holiday
schedule is not known is stored and shown as provisional (暂定), and counted again by
`xinyong daily` once the year's calendar file is added. Both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fixtures.deliveries import XINYUAN
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner

from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.checks.feedback import overdue_checks
from xinyong.checks.models import checks
from xinyong.checks.service import get_check, run_check
from xinyong.cli import app
from xinyong.clock import CHINA, FixedClock, StartedClock
from xinyong.db import make_engine
from xinyong.jobs import run_daily
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.settings import Settings

CLERK = Principal(role=Role.CLERK, name="env-clerk", dept_uscc="11410900PY00000577")
DECEMBER = datetime(2026, 12, 21, 9, 0, tzinfo=CHINA)

# A test file for 2027, not the real schedule (not published when this was written):
# 1–3 January and 4–5 January off.
TEST_2027 = """\
year: 2027
source:
  title: 国务院办公厅关于2027年部分节假日安排的通知（测试用）
  document_no: 测试〔2026〕1号
  issued_on: 2026-11-10
holidays:
  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}
  - {name: 测试节, start: 2027-01-04, end: 2027-01-05}
"""


@pytest.fixture
def clocked(settings: Settings, engine: Engine) -> Iterator[tuple[Engine, FixedClock]]:
    """The migrated test database, on an engine whose clock stands on 21 December 2026."""
    clock = FixedClock(DECEMBER)
    eng = make_engine(settings.model_copy(update={"clock": clock}))
    yield eng, clock
    eng.dispose()


def test_a_deadline_into_an_unknown_year_is_provisional_until_its_file_appears(
    clocked: tuple[Engine, FixedClock], catalog_dir: Path, tmp_path: Path
) -> None:
    engine, _ = clocked
    catalog = load_catalog(catalog_dir)
    measures = load_measures(measures_dir(catalog), catalog)
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕1号", NDRC)],
    )
    with engine.begin() as conn:
        november = _check(conn, catalog, measures, date(2026, 11, 2))
        december = _check(conn, catalog, measures, date(2026, 12, 21))
    assert (november.deadline, november.deadline_provisional) == (date(2026, 11, 16), False)
    # 22–31 December are 8 working days; 2027 unknown: Friday 1 and Monday 4 January
    assert (december.deadline, december.deadline_provisional) == (date(2027, 1, 4), True)
    assert december.as_dict()["feedback_deadline_provisional"] is True
    with engine.connect() as conn:
        stored = get_check(conn, CLERK, december.check_id)
        assert (stored["deadline_provisional"], stored["deadline_days"]) == (True, 10)
        late = overdue_checks(conn, as_of=date(2027, 2, 1))
        assert {(o["id"], o["deadline_provisional"]) for o in late} >= {
            (december.check_id, True),
            (november.check_id, False),
        }

    with engine.begin() as conn:
        first = run_daily(conn, as_of=date(2026, 12, 21), actor="测试", catalog_dir=catalog_dir)
    assert first.steps["calendar.provisional"] == {
        "confirmed": 0,
        "changed": 0,
        "still_provisional": 1,
    }
    assert first.steps["calendar.next_year"] == {"next_year_missing": 1}
    assert "2027 年的工作日历尚未添加" in first.warnings[0]
    with engine.begin() as conn:
        # a deadline stored before revision 0013 counted its days without keeping the count
        legacy = conn.execute(
            insert(checks).returning(checks.c.id),
            {
                **_row(conn, december.check_id),
                "deadline": date(2027, 1, 4),
                "deadline_provisional": True,
                "deadline_days": None,
            },
        ).scalar_one()

    (catalog_dir / "calendar" / "2027.yaml").write_text(TEST_2027, encoding="utf-8")
    with engine.begin() as conn:
        second = run_daily(conn, as_of=date(2026, 12, 22), actor="测试", catalog_dir=catalog_dir)
    assert second.steps["calendar.provisional"] == {
        "confirmed": 2,
        "changed": 2,
        "still_provisional": 0,
    }
    assert second.warnings == []
    with engine.connect() as conn:
        for cid in (december.check_id, legacy):
            again = get_check(conn, CLERK, cid)
            # 1–5 January off: Wednesday 6 is the 9th working day, Thursday 7 the 10th
            assert (again["deadline"], again["deadline_provisional"]) == (date(2027, 1, 7), False)
            assert again["deadline_days"] == 10
        untouched = get_check(conn, CLERK, november.check_id)
        assert untouched["deadline"] == date(2026, 11, 16)
    with engine.begin() as conn:
        third = run_daily(conn, as_of=date(2026, 12, 23), actor="测试", catalog_dir=catalog_dir)
    assert third.steps["calendar.provisional"] == {
        "confirmed": 0,
        "changed": 0,
        "still_provisional": 0,
    }


def _check(conn, catalog: Catalog, measures, on: date):  # type: ignore[no-untyped-def]
    res = run_check(
        conn, catalog, measures, CLERK, subject_code=XINYUAN.uscc, matter="procurement", today=on
    )
    assert res.check_id is not None and res.measures
    return res


def _row(conn, check_id: int | None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    row = conn.execute(select(checks).where(checks.c.id == check_id)).one()._mapping
    return {k: v for k, v in row.items() if k != "id"}


# -- the November reminder ------------------------------------------------------------------------


@pytest.mark.usefixtures("cli")
@pytest.mark.parametrize(
    ("at", "warned"),
    [
        ("2026-10-31T23:59:00+08:00", False),  # still October in Beijing
        ("2026-10-31T16:30:00+00:00", True),  # 00:30 on 1 November in Beijing
        ("2026-12-21T09:00:00+08:00", True),
    ],
)
def test_daily_warns_from_november_when_next_year_is_missing(
    at: str, warned: bool, engine: Engine, clock: StartedClock
) -> None:
    clock.advance(datetime.fromisoformat(at) - clock.now())  # the command line reads this clock
    plain = CliRunner().invoke(app, ["daily"])
    assert plain.exit_code == 0, plain.output
    # rich folds long lines at the console's width (80 where stdout is not a terminal)
    assert ("提醒：2027 年的工作日历尚未添加" in plain.stdout.replace("\n", "")) is warned
    answer = CliRunner().invoke(app, ["daily", "--json"])
    assert answer.exit_code == 0, answer.output
    warnings = json.loads(answer.stdout)["warnings"]
    assert bool(warnings) is warned
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "daily.run")
        ).all()
    assert len(events) == 2 and all(bool(e.detail["warnings"]) is warned for e in events)


@pytest.mark.usefixtures("cli")
def test_no_warning_once_next_years_file_is_added(
    catalog_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: StartedClock
) -> None:
    (catalog_dir / "calendar" / "2027.yaml").write_text(TEST_2027, encoding="utf-8")
    monkeypatch.setenv("XINYONG_CATALOG_DIR", str(catalog_dir))
    clock.advance(datetime.fromisoformat("2026-12-21T09:00:00+08:00") - clock.now())
    answer = CliRunner().invoke(app, ["daily", "--json"])
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.stdout)["warnings"] == []
