"""The change feed (变更流水): every change of a record or list entry, numbered in order.

A change is found by comparison, set-based: ``capture`` compares each record (its version,
its state, its list entry's status) with what the feed last said of it (``exchange_seen``) and
appends one numbered row per difference in one ``INSERT … SELECT``. Nothing in the packages
that change records has to remember to call us: after every batch the step ``capture_batch``
(``jobs.AFTER_BATCH``) captures the batch's records; ``xinyong daily`` and every export capture
the whole table, which finds what clerks' actions changed (withdrawals, objections, repairs,
expiries, list exits). Two changes of one record between two captures are one row, saying
the latest state: a consumer always converges on the record as it stands.

Whether a change may leave the platform is decided once, by the disclosure engine
(``disclosure.shared_datasets``): a change of a 授权查询 dataset, or of a record that a peer
platform itself sent down, is stored with ``shared`` false and never read by a feed for
others. Captures are serialised (an advisory lock on PostgreSQL, SQLite has one writer), so
sequence numbers commit in order and a reader's cursor never skips a late commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from xinyong import clock
from xinyong.batches.problems import Problem
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.schema import Dataset
from xinyong.daily import DailyRun
from xinyong.db import is_sqlite, take_chain
from xinyong.disclosure.view import shared_datasets
from xinyong.errors import XinyongError
from xinyong.exchange.models import exchange_changes, exchange_seen
from xinyong.exchange.nodes import load_nodes
from xinyong.lists.models import list_entries
from xinyong.measures.loaded import configured
from xinyong.notifications.feed import decode_opaque, encode_opaque
from xinyong.records import states
from xinyong.records.models import records

CAPTURE_LOCK_KEY = 0x78_79_63_66  # "xycf": one capture at a time per schema

EVENT_LABELS = {
    "new": "新增",
    "corrected": "更正",
    "withdrawn": "撤销",
    "objection_opened": "异议处理中",
    "objection_closed": "异议办结",
    "repaired": "信用修复",
    "expired": "期满停止公示（归档）",
    "list_exited": "移出名单",
    "changed": "状态变更",
}


def _event(r: Any, s: Any, e: Any) -> ColumnElement[str]:
    return case(
        (s.c.record_id.is_(None), case((r.c.state == states.WITHDRAWN, "withdrawn"), else_="new")),
        (and_(r.c.state == states.WITHDRAWN, s.c.state != states.WITHDRAWN), "withdrawn"),
        # a state change may store a version too (expiry, withdrawal): the state names it
        (and_(r.c.state == states.OBJECTED, s.c.state != states.OBJECTED), "objection_opened"),
        (and_(r.c.state == states.REPAIRED, s.c.state != states.REPAIRED), "repaired"),
        (and_(s.c.state == states.OBJECTED, r.c.state == states.PUBLISHED), "objection_closed"),
        (and_(r.c.state == states.EXPIRED, s.c.state != states.EXPIRED), "expired"),
        (r.c.version != s.c.version, "corrected"),
        (
            and_(e.c.status == "exited", func.coalesce(s.c.entry_status, "") != "exited"),
            "list_exited",
        ),
        else_="changed",
    )


def capture(conn: Connection, catalog: Catalog, *, batch_id: int | None = None) -> int:
    """Append a numbered change for every record (of ``batch_id``, or all) that differs from
    what the feed last said of it; returns how many. The caller's transaction commits."""
    take_chain(conn, CAPTURE_LOCK_KEY, 1)  # one chain: captures take turns until commit
    r, s, e, c = records, exchange_seen, list_entries, exchange_changes
    before = conn.execute(select(func.coalesce(func.max(c.c.seq), 0))).scalar_one()
    differs = or_(
        s.c.record_id.is_(None),
        s.c.version != r.c.version,
        s.c.state != r.c.state,
        func.coalesce(e.c.status, "") != func.coalesce(s.c.entry_status, ""),
    )
    shared_codes = shared_datasets(catalog)
    peers = load_nodes(catalog.root).peer_depts
    shared = and_(r.c.dataset.in_(shared_codes), r.c.dept_uscc.not_in(peers))
    event = _event(r, s, e)
    operation = case((event == "new", "ADD"), (event == "withdrawn", "DEL"), else_="MOD")
    where = [differs]
    if batch_id is not None:
        where.append(r.c.batch_id == batch_id)
    changes = (
        select(
            r.c.id,
            r.c.dataset,
            r.c.dept_uscc,
            r.c.subject_id,
            r.c.version,
            r.c.state,
            e.c.status,
            event,
            operation,
            shared,
            r.c.batch_id,
            literal(clock.now(conn), c.c.created_at.type),
        )
        .select_from(r.outerjoin(s, s.c.record_id == r.c.id).outerjoin(e, e.c.record_id == r.c.id))
        .where(*where)
        .order_by(r.c.id)
    )
    columns = [
        "record_id",
        "dataset",
        "dept_uscc",
        "subject_id",
        "version",
        "state",
        "entry_status",
        "event",
        "operation",
        "shared",
        "batch_id",
        "created_at",
    ]
    conn.execute(insert(c).from_select(columns, changes))
    # counted, not rowcount: psycopg reports -1 for INSERT … SELECT through SQLAlchemy
    added = int(conn.execute(select(func.count()).where(c.c.seq > before)).scalar_one())
    if added:
        _remember(conn, before)
    return added


def _remember(conn: Connection, after_seq: int) -> None:
    """What the feed now says of each record it just numbered (one upsert, set-based)."""
    c, s = exchange_changes, exchange_seen
    fresh = select(c.c.record_id, c.c.version, c.c.state, c.c.entry_status, c.c.seq).where(
        c.c.seq > after_seq
    )
    dialect: Any = sqlite if is_sqlite(conn) else postgresql
    stmt = dialect.insert(s).from_select(
        ["record_id", "version", "state", "entry_status", "seq"], fresh
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[s.c.record_id],
            set_={
                "version": stmt.excluded.version,
                "state": stmt.excluded.state,
                "entry_status": stmt.excluded.entry_status,
                "seq": stmt.excluded.seq,
            },
        )
    )


def capture_batch(conn: Connection, dataset: Dataset, batch_id: int) -> list[tuple[int, Problem]]:
    """The after-batch step: number the changes the batch made (``jobs.AFTER_BATCH``)."""
    catalog, _ = configured()
    capture(conn, catalog, batch_id=batch_id)
    return []


def capture_daily(conn: Connection, run: DailyRun) -> dict[str, int]:
    """The daily step: number what clerks' actions and the day's expiries changed."""
    return {"changes": capture(conn, load_catalog(run.catalog_dir))}


_CURSOR_PREFIX = "x1_"


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the feed position after change ``seq`` (0: from the start)."""
    return encode_opaque(_CURSOR_PREFIX, "q", seq)


def decode_cursor(cursor: str | None) -> int:
    """The change number a cursor stands for; a bare number is taken too (the command line's
    ``--since 0``); anything else is ``CURSOR_INVALID``."""
    if cursor is None or cursor == "":
        return 0
    if cursor.isdigit() and len(cursor) <= 18:
        return int(cursor)
    bad = XinyongError(
        "CURSOR_INVALID", "变更游标无效：请使用上一次返回的 next 值，或从 0 开始读取"
    )
    return decode_opaque(cursor, _CURSOR_PREFIX, "q", bad)
