"""The outbox: an event exists exactly when its transaction committed, once per key, with one
delivery per department numbered in that department's own order."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, Table, func, select

from xinyong.notifications.models import (
    notification_deliveries,
    notification_events,
)
from xinyong.notifications.outbox import Outgoing, enqueue, enqueue_many

SAMR = "11410900PY0000022L"
ENV = "11410900PY00000577"
NDRC = "11410900PY0000014R"


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _deliveries(engine: Engine) -> list[tuple[int, str, int]]:
    d = notification_deliveries
    with engine.connect() as conn:
        return [
            (r.event_id, r.dept_uscc, r.seq)
            for r in conn.execute(
                select(d.c.event_id, d.c.dept_uscc, d.c.seq).order_by(d.c.dept_uscc, d.c.seq)
            )
        ]


def test_the_same_key_twice_is_one_event(engine: Engine) -> None:
    payload = {"list": "YZSX", "record_id": 123, "change": "entered"}
    with engine.begin() as conn:
        first = enqueue(
            conn,
            kind="list.entered",
            subject_id=None,
            payload=payload,
            dept_usccs=[SAMR, ENV],
            event_key="list.entered:record:123:v1",
        )
    with engine.begin() as conn:
        again = enqueue(
            conn,
            kind="list.entered",
            subject_id=None,
            payload=payload,
            dept_usccs=[SAMR, ENV],
            event_key="list.entered:record:123:v1",
        )
    assert again == first
    assert _count(engine, notification_events) == 1
    assert sorted(_deliveries(engine)) == sorted([(first, ENV, 1), (first, SAMR, 1)])
    with engine.connect() as conn:
        uid = conn.execute(select(notification_events.c.event_uid)).scalar_one()
    assert uid.startswith("evt_") and len(uid) == 36


def test_a_repeated_key_reaches_a_department_added_later_once(engine: Engine) -> None:
    with engine.begin() as conn:
        key = "list.changed:record:9:v2"
        first = enqueue(
            conn, kind="list.changed", subject_id=None, payload={}, dept_usccs=[SAMR], event_key=key
        )
        enqueue(
            conn,
            kind="list.changed",
            subject_id=None,
            payload={},
            dept_usccs=[SAMR, NDRC],
            event_key=key,
        )
    assert sorted(_deliveries(engine)) == sorted([(first, NDRC, 1), (first, SAMR, 1)])


def test_a_rolled_back_change_leaves_no_event(engine: Engine) -> None:
    with engine.connect() as conn:
        tx = conn.begin()
        enqueue(
            conn,
            kind="list.entered",
            subject_id=None,
            payload={"x": 1},
            dept_usccs=[SAMR],
            event_key="list.entered:record:1:v1",
        )
        tx.rollback()
    assert _count(engine, notification_events) == 0
    assert _count(engine, notification_deliveries) == 0
    # and the key is free for the change when it does commit
    with engine.begin() as conn:
        enqueue(
            conn,
            kind="list.entered",
            subject_id=None,
            payload={"x": 1},
            dept_usccs=[SAMR],
            event_key="list.entered:record:1:v1",
        )
    assert _deliveries(engine)[0][1:] == (SAMR, 1)


def test_each_department_numbers_its_own_deliveries_in_order(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = enqueue_many(
            conn,
            [
                Outgoing(
                    "record.new",
                    None,
                    {"n": n},
                    (SAMR,) if n % 2 else (SAMR, ENV),
                    f"record.new:record:{n}",
                )
                for n in range(1, 8)
            ],
        )
    with engine.begin() as conn:
        later = enqueue(
            conn,
            kind="list.ended",
            subject_id=None,
            payload={},
            dept_usccs=[ENV],
            event_key="list.ended:record:77:v3",
        )
    assert len(set(ids)) == 7
    rows = _deliveries(engine)
    samr = [(e, s) for e, d, s in rows if d == SAMR]
    env = [(e, s) for e, d, s in rows if d == ENV]
    assert [s for _, s in samr] == list(range(1, 8))
    assert [e for e, _ in samr] == ids
    assert [s for _, s in env] == [1, 2, 3, 4]
    assert [e for e, _ in env] == [ids[1], ids[3], ids[5], later]


def test_a_bad_key_is_a_programming_error(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError):
        enqueue(
            conn, kind="list.entered", subject_id=None, payload={}, dept_usccs=[SAMR], event_key=""
        )


def test_a_departments_numbers_become_visible_in_order(engine: Engine) -> None:
    """The second of two concurrent transactions waits for the first's counter row, so a feed
    reader never sees number 2 before number 1 has committed (and skips it for good)."""
    import threading
    import time

    from sqlalchemy import text

    from xinyong.accounts.roles import Principal, Role
    from xinyong.db import read_only
    from xinyong.notifications.feed import feed

    reader = Principal(role=Role.DEPT_SYSTEM, name="samr-sys", dept_uscc=SAMR)
    first = engine.connect()
    tx = first.begin()
    enqueue(
        first,
        kind="list.entered",
        subject_id=None,
        payload={"n": 1},
        dept_usccs=[SAMR],
        event_key="list.entered:record:1:v1",
    )
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as conn:
                enqueue(
                    conn,
                    kind="list.entered",
                    subject_id=None,
                    payload={"n": 2},
                    dept_usccs=[SAMR],
                    event_key="list.entered:record:2:v1",
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        if engine.dialect.name == "postgresql":
            # wait until the second transaction is blocked on the first one's counter row
            deadline = time.monotonic() + 60
            with engine.connect() as probe:
                while not probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%notification_counters%'"
                    )
                ).scalar_one():
                    probe.rollback()  # pg_stat_activity is a snapshot per transaction
                    assert time.monotonic() < deadline and thread.is_alive()
                    time.sleep(0.02)
        with engine.connect() as conn:
            # read-only: on SQLite a reader then takes no write lock (the first writer holds it)
            assert feed(read_only(conn), reader, since=None).items == []
        tx.commit()
    finally:
        if tx.is_active:
            tx.rollback()
        first.close()
        thread.join(60)
    assert not errors
    with engine.connect() as conn:
        page = feed(conn, reader, since=None)
    assert [n.payload["n"] for n in page.items] == [1, 2]
