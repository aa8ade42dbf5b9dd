"""The home page's figures (首页数据): subjects, records in public view, this month's 双公示,
list entries and exits this month, 双公示 per month for a year and records per tab.

Only aggregates: counts of what anyone may see (the disclosure engine's ``public_sql``) and of
list events, never a name. Counting a whole table costs real time on a city's data (seconds at a
few million records), so the answer is kept per database. When a delivery lands (the data's "as
of" moves) or the figures are a few minutes old, the visitor who notices is answered with the
kept figures and one thread counts again for the next visitors: the home page never waits for a
count, except the first time and when the day changes (yesterday's counts would include what
expired at midnight).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, String, cast, func, select

from xinyong import clock
from xinyong.catalog.loader import Catalog
from xinyong.db import read_only
from xinyong.disclosure import TABS
from xinyong.disclosure.view import public_sql
from xinyong.lists.models import list_events
from xinyong.portal.service import LIST_DATASETS, PUBLICITY_DATASETS, data_as_of
from xinyong.records.models import records
from xinyong.subjects.models import subjects
from xinyong.subjects.refs import PERSON

MONTHS = 12
KEPT_FOR = timedelta(minutes=5)
# list events that end an entry's publication (lists/events.py kinds)
EXIT_EVENTS = ("exited", "expired", "repaired")


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM
    permits: int
    penalties: int


@dataclass(frozen=True)
class HomeFigures:
    month: str  # YYYY-MM of today in Beijing
    organisations: int  # 法人及非法人组织 (merged ones not counted twice)
    businesses: int  # 个体工商户
    records: int  # records in public view today
    permits_this_month: int  # 行政许可 decided this month, in public view
    penalties_this_month: int
    listed_this_month: int  # entries put on the red and black lists this month
    exited_this_month: int  # entries that left them this month (exit, expiry, repair)
    per_month: tuple[MonthCount, ...]
    per_tab: tuple[tuple[str, int], ...]  # records in public view per subject-page tab


@dataclass(frozen=True)
class _Kept:
    as_of: datetime  # the data's "as of" when counted
    today: date
    counted_at: datetime
    figures: HomeFigures


_kept: dict[str, _Kept] = {}  # by database URL (a test schema's URL names its schema)
_recounts: dict[str, threading.Thread] = {}
_lock = threading.Lock()
_log = logging.getLogger(__name__)


def home_figures(conn: Connection, catalog: Catalog) -> HomeFigures:
    today = clock.today(conn)
    now = clock.now(conn)
    database = str(conn.engine.url)
    as_of = data_as_of(conn)
    with _lock:
        kept = _kept.get(database)
    if kept is None or kept.today != today:
        figures = _count(conn, catalog, today)
        _keep(database, _Kept(as_of, today, now, figures))
        return figures
    if kept.as_of != as_of or now - kept.counted_at >= KEPT_FOR:
        _recount_later(conn.engine, catalog, database, _Kept(as_of, today, now, kept.figures))
    return kept.figures


def settle(timeout_s: float = 60.0) -> None:
    """Wait for the recounts under way (tests and shutdown: no thread left holding a connection)."""
    with _lock:
        running = list(_recounts.values())
    for thread in running:
        thread.join(timeout_s)


def _keep(database: str, kept: _Kept) -> None:
    with _lock:
        if len(_kept) > 16:  # one entry per database: a process serves one, tests many
            _kept.clear()
        _kept[database] = kept


def _recount_later(engine: Engine, catalog: Catalog, database: str, stamp: _Kept) -> None:
    """Count again in a thread of its own, at most one per database at a time."""

    def recount() -> None:
        try:
            with engine.connect() as conn:
                # a count only reads: on SQLite it must not queue for the write lock behind a
                # delivery (it waited up to the busy timeout, holding this process's writer
                # queue, and then failed, keeping old figures for the whole delivery)
                figures = _count(read_only(conn), catalog, stamp.today)
            _keep(database, _Kept(stamp.as_of, stamp.today, stamp.counted_at, figures))
        except Exception:  # the kept figures stay; the next visitor's request tries again
            _log.exception("首页数据重新统计失败")
        finally:
            with _lock:
                _recounts.pop(database, None)

    with _lock:
        if database in _recounts:
            return
        thread = threading.Thread(target=recount, name="home-figures", daemon=True)
        _recounts[database] = thread
    thread.start()


def _month_start(day: date, back: int = 0) -> date:
    year, month = day.year, day.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _count(conn: Connection, catalog: Catalog, today: date) -> HomeFigures:
    joined = records.join(subjects, subjects.c.id == records.c.subject_id)
    per_dataset: dict[str, int] = {
        row[0]: row[1]
        for row in conn.execute(
            select(records.c.dataset, func.count())
            .select_from(joined)
            .where(public_sql(catalog, tuple(catalog.datasets), today))
            .group_by(records.c.dataset)
        )
    }
    categories: dict[str, int] = {
        row[0]: row[1]
        for row in conn.execute(
            select(subjects.c.category, func.count())
            .where(subjects.c.merged_into.is_(None), subjects.c.category != PERSON)
            .group_by(subjects.c.category)
        )
    }
    first = _month_start(today, MONTHS - 1)
    month = func.substr(cast(records.c.decision_date, String), 1, 7)
    publicity = tuple(PUBLICITY_DATASETS.values())
    monthly: dict[tuple[str, str], int] = {
        (row[0], row[1]): row[2]
        for row in conn.execute(
            select(records.c.dataset, month, func.count())
            .select_from(joined)
            .where(
                public_sql(catalog, publicity, today),
                records.c.decision_date >= first,
                records.c.decision_date <= today,
            )
            .group_by(records.c.dataset, month)
        )
    }
    months = [_month_start(today, back).isoformat()[:7] for back in range(MONTHS - 1, -1, -1)]
    permits, penalties = PUBLICITY_DATASETS["xzxk"], PUBLICITY_DATASETS["xzcf"]
    this_month = months[-1]
    listed, exited = _list_changes(conn, _month_start(today), today)
    return HomeFigures(
        month=this_month,
        organisations=categories.get("法人及非法人组织", 0),
        businesses=categories.get("个体工商户", 0),
        records=sum(per_dataset.values()),
        permits_this_month=monthly.get((permits, this_month), 0),
        penalties_this_month=monthly.get((penalties, this_month), 0),
        listed_this_month=listed,
        exited_this_month=exited,
        per_month=tuple(
            MonthCount(m, monthly.get((permits, m), 0), monthly.get((penalties, m), 0))
            for m in months
        ),
        per_tab=tuple(
            (tab, sum(per_dataset.get(code, 0) for code in codes)) for tab, codes in TABS.items()
        ),
    )


def _list_changes(conn: Connection, start: date, end: date) -> tuple[int, int]:
    """Entries put on and taken off the public red and black lists between the two days."""
    codes = sorted({code for group in LIST_DATASETS.values() for code in group})
    counts: dict[str, int] = {
        row[0]: row[1]
        for row in conn.execute(
            select(list_events.c.kind, func.count())
            .where(
                list_events.c.dataset.in_(codes),
                list_events.c.on_date >= start,
                list_events.c.on_date <= end,
                list_events.c.kind.in_(("entered", *EXIT_EVENTS)),
            )
            .group_by(list_events.c.kind)
        )
    }
    return int(counts.get("entered", 0)), sum(int(counts.get(k, 0)) for k in EXIT_EVENTS)
