"""SQLite's writers of one process queue in order on a lock (``xinyong.db._WriterQueue``)
instead of sleeping in SQLite's busy handler; the lock never outlives a transaction and never
makes a thread wait for itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from xinyong import db
from xinyong.db import is_busy, make_engine, read_only
from xinyong.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _engine(path: Path, busy_timeout_s: float = 5.0) -> Engine:
    settings = Settings(
        database_url=f"sqlite:///{path}",
        catalog_dir=ROOT / "catalog",
        db_busy_timeout_s=busy_timeout_s,
    )
    return make_engine(settings)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = _engine(tmp_path / "q.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def _queue(engine: Engine) -> db._WriterQueue:
    queue = db._writer_queue(engine.url.database)
    assert queue is not None
    return queue


def _free(engine: Engine) -> bool:
    lock = _queue(engine)._lock
    if lock.acquire(blocking=False):
        lock.release()
        return True
    return False


def test_held_from_begin_to_commit_or_rollback(sqlite: Engine) -> None:
    with sqlite.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not _free(sqlite)
    assert _free(sqlite)
    with pytest.raises(RuntimeError), sqlite.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError
    assert _free(sqlite)
    # a transaction the pool ends (the connection given back without commit) lets it go too
    conn = sqlite.connect()
    conn.execute(text("INSERT INTO t VALUES (3)"))
    assert not _free(sqlite)
    conn.close()
    assert _free(sqlite)
    with sqlite.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [1]


def test_savepoints_keep_it(sqlite: Engine) -> None:
    with sqlite.begin() as conn:
        nested = conn.begin_nested()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        nested.rollback()
        assert not _free(sqlite)
        with conn.begin_nested():
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert not _free(sqlite)
    assert _free(sqlite)
    with sqlite.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [2]


def test_readers_take_no_lock(sqlite: Engine) -> None:
    with sqlite.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (1)"))
        with read_only(sqlite.connect()) as reader, reader.begin():
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0


def test_writers_of_many_threads_all_commit_in_turn(sqlite: Engine) -> None:
    inside = 0
    most = 0
    guard = threading.Lock()

    def write(k: int) -> None:
        nonlocal inside, most
        for i in range(20):
            with sqlite.begin() as conn:
                with guard:
                    inside += 1
                    most = max(most, inside)
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": k * 100 + i})
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most == 1  # one writer inside at a time, and nobody failed on the busy handler
    with sqlite.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 160
    assert _free(sqlite)


def test_a_thread_never_waits_for_itself(tmp_path: Path) -> None:
    """A second write transaction of the same thread (another connection) meets SQLite's own
    lock and fails after the busy timeout, as it did without the queue, instead of waiting
    for a lock its own thread holds."""
    engine = _engine(tmp_path / "self.db", busy_timeout_s=0.2)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        with engine.begin() as outer:
            outer.execute(text("INSERT INTO t VALUES (1)"))
            t0 = time.monotonic()
            with pytest.raises(OperationalError) as caught, engine.begin() as inner:
                inner.execute(text("INSERT INTO t VALUES (2)"))
            assert is_busy(caught.value)
            assert time.monotonic() - t0 < 5
            assert not _free(engine)  # still the outer transaction's
        assert _free(engine)
    finally:
        engine.dispose()


def test_a_wait_is_bounded_by_the_busy_timeout(tmp_path: Path) -> None:
    """A writer of another thread that holds the lock past the busy timeout: the waiting
    writer fails as SQLite's busy handler made it fail ("database is locked", 503 at the web)."""
    path = tmp_path / "bounded.db"
    holder = _engine(path)
    waiter = _engine(path, busy_timeout_s=0.3)
    try:
        with holder.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        started, done = threading.Event(), threading.Event()

        def hold() -> None:
            with holder.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
                started.set()
                done.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        started.wait(10)
        with pytest.raises(OperationalError) as caught, waiter.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert is_busy(caught.value)
        done.set()
        thread.join(10)
        with waiter.begin() as conn:  # the busy timeout was restored after the one try
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 300
            conn.execute(text("INSERT INTO t VALUES (3)"))
        with waiter.connect() as conn:
            assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 3]
    finally:
        holder.dispose()
        waiter.dispose()


def test_a_writer_outside_the_queue_is_still_kept_out(sqlite: Engine, tmp_path: Path) -> None:
    """Another process (here: a plain connection) holding SQLite's lock: the queued writer
    waits in the busy handler as before, then goes in."""
    import sqlite3

    other = sqlite3.connect(str(tmp_path / "q.db"), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")

    def commit_later() -> None:
        # a relative sleep, not threading.Timer: a timed wait on an event never ends under
        # libfaketime (the suite with the clock a year ahead), see db._acquire_within
        time.sleep(0.3)
        other.commit()

    timer = threading.Thread(target=commit_later)
    timer.start()
    with sqlite.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
    timer.join()
    other.close()
    with sqlite.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]


def test_none_for_memory_databases() -> None:
    assert db._writer_queue(":memory:") is None
    assert db._writer_queue(None) is None
