"""The audit log on both databases: the chain, what verify catches, append-only enforcement,
concurrent writers, events that outlive a rolled-back request, and `xinyong audit`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fixtures.cli import point_at, reset_cli
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from xinyong.audit import (
    append,
    append_independently,
    check_against,
    export_anchor,
    search,
    service,
    verify,
)
from xinyong.audit.models import audit_anchor, audit_events
from xinyong.audit.service import GENESIS_HASH, event_hash
from xinyong.cli import app
from xinyong.clock import CHINA, Clock
from xinyong.errors import XinyongError
from xinyong.settings import Settings

CLERK = {"actor": "张三（市场监管局）", "role": "dept_clerk", "dept_uscc": "11410900MB1234567X"}


def add(engine: Engine, n: int, **fields: Any) -> None:
    """``n`` events, each in its own committed transaction, as the services will write them."""
    for i in range(n):
        with engine.begin() as conn:
            append(
                conn,
                **{
                    **CLERK,
                    "action": "record.read",
                    "subject_id": 100 + i,
                    "purpose": "行政许可核查",
                    "detail": {"数据集": "XZCF", "序": i, "字段": ["CF_WSH", "CF_JG"]},
                    "source": "10.0.0.7",
                    **fields,
                },
            )


def is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def unguard(conn: Connection) -> None:
    """Act as an attacker with more rights than the application: switch the guard off."""
    if is_pg(conn.engine):
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def reguard(conn: Connection) -> None:
    """A careful attacker puts the guard back after rewriting."""
    if is_pg(conn.engine):
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        return
    for name, what in (("update", "UPDATE"), ("delete", "DELETE")):
        conn.execute(
            text(
                f"CREATE TRIGGER audit_events_no_{name} BEFORE {what} ON audit_events"
                " BEGIN SELECT RAISE(ABORT, 'append only'); END"
            )
        )


def tamper(engine: Engine, *statements: str, put_back: bool = True) -> None:
    with engine.begin() as conn:
        unguard(conn)
        for statement in statements:
            conn.execute(text(statement))
        if put_back:
            reguard(conn)


def check(engine: Engine, anchor: dict[str, Any] | None = None) -> Any:
    with engine.connect() as conn:
        return verify(conn, anchor)


def head(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return export_anchor(conn)


# -- the chain --------------------------------------------------------------------------------


def test_appends_chain_every_column_into_the_hash(engine: Engine, clock: Clock) -> None:
    before = clock.now()
    with engine.begin() as conn:
        first = append(conn, **CLERK, action="batch.ingest", batch_id=7, detail={"新增": 3})
        second = append(
            conn, actor="cli:root@host", role="operator", action="record.withdraw", record_id=9
        )
    add(engine, 1, outcome="denied", action="access.denied")

    with engine.connect() as conn:
        stored = list(reversed(search(conn)))
    assert [e.seq for e in stored] == [1, 2, 3]
    assert stored[:2] == [first, second]  # what append returns is what is stored
    assert stored[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    for event in stored:
        assert event.hash == event_hash(event.as_dict() | {"at": event.at})
        assert before <= event.at <= clock.now()
    assert stored[0].detail == {"新增": 3}
    assert (stored[0].dept_uscc, stored[1].dept_uscc) == (CLERK["dept_uscc"], None)
    assert stored[2].outcome == "denied"
    # the head is anchored beside the events
    anchor = head(engine)
    assert {k: anchor[k] for k in ("seq", "hash", "at")} == {
        "seq": 3,
        "hash": stored[2].hash,
        "at": stored[2].as_dict()["at"],
    }
    assert anchor["chains"] == {"1": {"seq": 3, "hash": stored[2].hash}}


def test_the_hash_covers_seq_and_prev_hash() -> None:
    fields: dict[str, Any] = {
        "seq": 1,
        "at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "actor": "甲",
        "role": "operator",
        "dept_uscc": None,
        "action": "department.add",
        "outcome": "ok",
        "subject_id": None,
        "record_id": None,
        "batch_id": None,
        "purpose": None,
        "detail": {"b": 1, "a": [True, None, "乙"]},
        "source": None,
        "prev_hash": GENESIS_HASH,
    }
    digest = event_hash(fields)
    assert event_hash({**fields, "seq": 2}) != digest
    # chain 1 hashes as events did before there were chains; another chain's number counts
    assert event_hash({**fields, "chain": 1}) == digest
    assert event_hash({**fields, "chain": 2}) != digest != event_hash({**fields, "chain": 3})
    assert event_hash({**fields, "prev_hash": "1" * 64}) != digest
    # the same instant in another zone, or a naive UTC one from SQLite, is the same event
    beijing = fields["at"].astimezone(CHINA)
    assert event_hash({**fields, "at": beijing}) == digest
    assert event_hash({**fields, "at": fields["at"].replace(tzinfo=None)}) == digest
    assert event_hash({**fields, "detail": {"a": [True, None, "乙"], "b": 1}}) == digest


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"action": "ingest"}, ValueError),  # not a dotted code
        ({"action": "batch.ingest", "outcome": "maybe"}, ValueError),
        ({"action": "batch.ingest", "detail": {"金额": 1.5}}, TypeError),
        ({"action": "batch.ingest", "detail": {1: "x"}}, TypeError),
        (
            {"action": "batch.ingest", "detail": {"when": datetime(2026, 1, 1, tzinfo=UTC)}},
            TypeError,
        ),
    ],
)
def test_append_refuses_what_would_not_verify(
    engine: Engine, fields: dict[str, Any], error: type[Exception]
) -> None:
    with engine.begin() as conn, pytest.raises(error):
        append(conn, actor="甲", role="operator", **fields)


def test_verify_passes_an_intact_chain(engine: Engine) -> None:
    empty = check(engine)
    assert (empty.ok, empty.checked, empty.first_bad_seq) == (True, 0, None)
    add(engine, 5)
    result = check(engine, head(engine))
    assert (result.ok, result.checked, result.first_bad_seq) == (True, 5, None)
    assert result.reason == "审计链完整：5 条，防改写保护在位"


def test_verify_walks_more_than_one_page(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xinyong.audit.service.VERIFY_CHUNK", 3)
    add(engine, 8)
    assert check(engine).checked == 8
    tamper(engine, "DELETE FROM audit_events WHERE seq = 7")
    assert check(engine).first_bad_seq == 7


# -- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "actor = '李四'",
        "outcome = 'ok', action = 'record.read'",
        "subject_id = NULL",
        "at = at",  # unchanged: must still verify (see below)
        "purpose = '无'",
        "source = '127.0.0.1'",
    ],
)
def test_a_changed_column_is_caught_at_its_event(engine: Engine, change: str) -> None:
    add(engine, 5, action="access.denied", outcome="denied")
    tamper(engine, f"UPDATE audit_events SET {change} WHERE seq = 3")
    result = check(engine)
    if change == "at = at":
        assert result.ok
        return
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert "第 3 条" in result.reason


def test_a_changed_detail_or_timestamp_is_caught(engine: Engine, clock: Clock) -> None:
    add(engine, 4)
    with engine.begin() as conn:
        unguard(conn)
        conn.execute(
            audit_events.update()
            .where(audit_events.c.seq == 2)
            .values(detail={"数据集": "XZXK", "序": 1, "字段": ["CF_WSH", "CF_JG"]})
        )
        conn.execute(
            audit_events.update()
            .where(audit_events.c.seq == 4)
            .values(at=clock.now() - timedelta(days=1))
        )
    assert check(engine).first_bad_seq == 2


def test_an_event_rewritten_with_a_fresh_hash_breaks_the_next_link(engine: Engine) -> None:
    add(engine, 4)
    with engine.connect() as conn:
        victim = next(e for e in search(conn) if e.seq == 2)
    forged = victim.as_dict() | {"at": victim.at, "actor": "李四"}
    tamper(
        engine,
        f"UPDATE audit_events SET actor = '李四', hash = '{event_hash(forged)}' WHERE seq = 2",
    )
    result = check(engine)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "未链接" in result.reason


def test_a_deleted_middle_event_is_caught(engine: Engine) -> None:
    add(engine, 5)
    tamper(engine, "DELETE FROM audit_events WHERE seq = 3")
    result = check(engine)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert "缺失" in result.reason


def test_reordered_events_are_caught(engine: Engine) -> None:
    add(engine, 5)
    tamper(
        engine,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -2",
    )
    assert check(engine).first_bad_seq == 2


def test_an_event_slipped_in_before_the_first_is_caught(engine: Engine) -> None:
    add(engine, 2)
    tamper(
        engine,
        "INSERT INTO audit_events (seq, at, actor, role, action, outcome, prev_hash, hash) "
        "SELECT 0, at, actor, role, action, outcome, prev_hash, hash FROM audit_events "
        "WHERE seq = 1",
    )
    result = check(engine)
    assert (result.ok, result.first_bad_seq) == (False, 0)


def test_a_deleted_tail_is_caught_by_the_anchor_table(engine: Engine) -> None:
    add(engine, 5)
    tamper(engine, "DELETE FROM audit_events WHERE seq >= 4")
    result = check(engine)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert "尾部被删除" in result.reason
    # the next append chains onto the anchor, not onto what is left: the gap stays visible
    add(engine, 1)
    assert check(engine).first_bad_seq == 4


def test_deleting_every_event_is_caught(engine: Engine) -> None:
    add(engine, 2)
    tamper(engine, "DELETE FROM audit_events")
    assert check(engine).first_bad_seq == 1


def test_a_deleted_tail_with_a_rewound_anchor_is_caught_by_an_external_anchor(
    engine: Engine,
) -> None:
    add(engine, 5)
    kept = head(engine)  # the operator's file
    with engine.connect() as conn:
        third = next(e for e in search(conn) if e.seq == 3)
    tamper(
        engine,
        "DELETE FROM audit_events WHERE seq >= 4",
        f"UPDATE audit_anchor SET seq = 3, hash = '{third.hash}'",
    )
    # inside the database the shortened chain is consistent: that is what the file is for
    assert check(engine).ok
    result = check(engine, kept)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    with engine.connect() as conn:
        quick = check_against(conn, kept)
    assert (quick.ok, quick.first_bad_seq) == (False, 5)


def test_a_rewritten_chain_is_caught_by_an_external_anchor(engine: Engine) -> None:
    add(engine, 3, action="access.denied", outcome="denied")
    kept = head(engine)
    # The attacker turns a refusal into a success, recomputes that event's hash and moves the
    # anchor table along: consistent in itself.
    with engine.connect() as conn:
        third = next(e for e in search(conn) if e.seq == 3)
    forged = third.as_dict() | {"at": third.at, "outcome": "ok"}
    digest = event_hash(forged)
    tamper(
        engine,
        f"UPDATE audit_events SET outcome = 'ok', hash = '{digest}' WHERE seq = 3",
        f"UPDATE audit_anchor SET hash = '{digest}'",
    )
    assert check(engine).ok
    assert check(engine, kept).first_bad_seq == 3
    with engine.connect() as conn:
        assert not check_against(conn, kept).ok


def test_an_external_anchor_stays_valid_as_the_log_grows(engine: Engine) -> None:
    add(engine, 2)
    kept = head(engine)
    add(engine, 3)
    assert check(engine, kept).ok
    with engine.connect() as conn:
        assert check_against(conn, kept).ok
        assert check_against(conn, {"seq": 0, "hash": GENESIS_HASH, "at": None}).ok
        with pytest.raises(XinyongError) as bad:
            check_against(conn, {"seq": "3", "hash": "x"})
    assert bad.value.code == "AUDIT_ANCHOR_INVALID"


# -- append-only ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = '李四' WHERE seq = 1", "DELETE FROM audit_events"],
)
def test_the_table_owner_cannot_change_events(engine: Engine, statement: str) -> None:
    add(engine, 2)
    with engine.connect() as conn:
        conn.begin()
        with pytest.raises(DBAPIError, match="审计日志只能追加"):
            conn.execute(text(statement))
        conn.rollback()
    assert check(engine).checked == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = '李四' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
        "DELETE FROM audit_anchor",
    ],
)
def test_the_application_role_cannot_change_events(engine: Engine, statement: str) -> None:
    if not is_pg(engine):
        pytest.skip("roles and grants exist on PostgreSQL only; SQLite relies on its triggers")
    add(engine, 2)
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text("SET LOCAL ROLE xinyong_app"))
        with pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement))
        conn.rollback()
    assert getattr(refused.value.orig, "sqlstate", None) == "42501"  # insufficient_privilege
    assert check(engine).checked == 2


def test_the_application_role_can_append_and_read(engine: Engine) -> None:
    if not is_pg(engine):
        pytest.skip("roles and grants exist on PostgreSQL only")
    add(engine, 1)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL ROLE xinyong_app"))
        append(conn, actor="web", role="public", action="subject.search")
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar() == 2
        # and keeps full rights on the platform's other tables
        conn.execute(text("DELETE FROM batch_warnings"))
    assert check(engine).checked == 2


# -- writers ----------------------------------------------------------------------------------


def test_concurrent_appends_make_gapless_chains(engine: Engine) -> None:
    rounds, start, errors = 50, threading.Barrier(2), []

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(rounds):
                with engine.begin() as conn:
                    append(conn, actor=name, role="dept_system", action="record.read", record_id=i)
        except Exception as exc:  # reported below: an exception in a thread is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"系统{k}",)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = check(engine)
    assert (result.ok, result.checked) == (True, 2 * rounds)
    with engine.connect() as conn:
        actors = conn.execute(select(audit_events.c.actor)).scalars().all()
        heads = conn.execute(select(audit_anchor.c.id, audit_anchor.c.seq)).all()
    assert sorted(actors) == ["系统1"] * rounds + ["系统2"] * rounds
    assert sum(seq for _, seq in heads) == 2 * rounds  # each chain gapless, none lost
    if not is_pg(engine):
        assert [c for c, _ in heads] == [1]  # one writer at a time: one chain


def test_an_append_after_a_rolled_back_append_chains_onto_the_stored_head(
    engine: Engine,
) -> None:
    add(engine, 2)
    with engine.connect() as conn:
        conn.begin()
        assert append(conn, **CLERK, action="record.read").seq == 3
        conn.rollback()  # the head this process moved last is not the stored one any more
    add(engine, 2)
    result = check(engine)
    assert (result.ok, result.checked) == (True, 4)
    assert head(engine)["seq"] == 4


@pytest.mark.parametrize("stale", ["behind", "other hash", "ahead"])
def test_an_append_from_a_stale_head_chains_onto_the_stored_head(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, stale: str
) -> None:
    # An append starts from the head as last seen (on SQLite this process's last append, on
    # PostgreSQL the chain's row read with its lock, which may predate the last holder's
    # commit) and moves the head only where it is still exactly that. Whatever the guess, the
    # event goes after the stored head.
    add(engine, 3)
    with engine.connect() as conn:
        seq, digest = conn.execute(select(audit_anchor.c.seq, audit_anchor.c.hash)).one()
    guess = {
        "behind": (seq - 1, digest),
        "other hash": (seq, "f" * 64),
        "ahead": (seq + 1, digest),
    }[stale]
    if is_pg(engine):
        real = service.take_chain_reading

        def stale_read(conn: Connection, *args: Any) -> Any:
            chain, row = real(conn, *args)
            return chain, SimpleNamespace(seq=guess[0], hash=guess[1]) if row else row

        monkeypatch.setattr(service, "take_chain_reading", stale_read)
    else:
        monkeypatch.setattr(service, "_HEADS", {(engine.url, 1): guess})
    with engine.begin() as conn:
        event = append(conn, **CLERK, action="record.read")
    assert (event.seq, event.prev_hash) == (seq + 1, digest)
    result = check(engine)
    assert (result.ok, result.checked) == (True, 4)


def two_chains(engine: Engine) -> None:
    """A log on two chains as concurrent writers make it (PostgreSQL): a request appends to
    chain 1 and, before it commits, another writer appends to chain 2; then more of each."""
    with engine.connect() as conn:
        conn.begin()
        append(conn, **CLERK, action="record.read", subject_id=1)
        event = append_independently(engine, **CLERK, action="access.denied", subject_id=2)
        assert event.chain == 2
        conn.commit()
    with engine.connect() as conn:
        conn.begin()
        append(conn, **CLERK, action="record.read", subject_id=3)
        for k in (4, 5):
            assert (
                append_independently(engine, **CLERK, action="record.read", subject_id=k).chain == 2
            )
        conn.commit()


def pg_only(engine: Engine) -> None:
    if not is_pg(engine):
        pytest.skip("SQLite has one writer at a time: every event is on chain 1")


def test_a_writer_does_not_wait_for_another_writers_chain(engine: Engine) -> None:
    pg_only(engine)
    done = threading.Event()
    with engine.connect() as conn:
        conn.begin()
        append(conn, **CLERK, action="record.read")  # holds chain 1 until the commit below

        def other() -> None:
            append_independently(engine, **CLERK, action="record.read", subject_id=7)
            done.set()

        t = threading.Thread(target=other)
        t.start()
        # with one lock for the whole log the other writer would wait for this commit
        assert done.wait(30), "the second writer waited for the first one's chain"
        conn.commit()
        t.join()
    result = check(engine)
    assert (result.ok, result.checked) == (True, 2)
    assert "2 条链" in result.reason


def test_tampering_with_another_chain_is_caught(engine: Engine) -> None:
    pg_only(engine)
    two_chains(engine)
    assert check(engine).ok and check(engine).checked == 5
    kept = head(engine)
    assert set(kept["chains"]) == {"1", "2"} and kept["digest"]
    # an event moved to chain 1: its hash covered its chain
    tamper(engine, "UPDATE audit_events SET chain = 1, seq = 9 WHERE chain = 2 AND seq = 3")
    bad = check(engine)
    assert (bad.ok, bad.first_bad_chain) == (False, 1)
    tamper(engine, "UPDATE audit_events SET chain = 2, seq = 3 WHERE chain = 1 AND seq = 9")
    assert check(engine).ok
    # a cut tail of chain 2
    tamper(engine, "DELETE FROM audit_events WHERE chain = 2 AND seq = 3")
    bad = check(engine)
    assert (bad.ok, bad.first_bad_chain, bad.first_bad_seq) == (False, 2, 3)
    assert "第 2 号链" in bad.reason and "尾部被删除" in bad.reason


def test_a_removed_chain_is_caught_by_an_external_anchor(engine: Engine) -> None:
    pg_only(engine)
    two_chains(engine)
    kept = head(engine)
    tamper(
        engine,
        "DELETE FROM audit_events WHERE chain = 2",
        "DELETE FROM audit_anchor WHERE id = 2",
    )
    assert check(engine).ok  # consistent in itself: only what was kept elsewhere knows
    for result in (check(engine, kept), _against(engine, kept)):
        assert (result.ok, result.first_bad_chain) == (False, 2)


def _against(engine: Engine, anchor: dict[str, Any]) -> Any:
    with engine.connect() as conn:
        return check_against(conn, anchor)


def test_an_anchor_from_before_the_chains_still_checks(engine: Engine) -> None:
    add(engine, 3)
    old = {k: v for k, v in head(engine).items() if k in ("seq", "hash", "at")}
    add(engine, 2)
    assert check(engine, old).ok and _against(engine, old).ok
    tamper(engine, "DELETE FROM audit_events WHERE seq > 2", "UPDATE audit_anchor SET seq = 2")
    assert not check(engine, old).ok and not _against(engine, old).ok


def test_an_independent_event_survives_the_requests_rollback(engine: Engine) -> None:
    class Refused(Exception):
        pass

    fields = {**CLERK, "action": "access.denied", "outcome": "denied", "subject_id": 42}
    # The pattern for both databases: the request fails, its transaction rolls back, and the
    # handler records the refusal on its own.
    with pytest.raises(Refused), engine.begin() as conn:
        append(conn, **CLERK, action="record.read", subject_id=42)  # rolled back with it
        raise Refused
    append_independently(engine, **fields)
    if is_pg(engine):
        # PostgreSQL also allows writing it while the request's transaction is still open.
        with engine.connect() as conn:
            conn.begin()
            conn.execute(text("DELETE FROM batch_warnings"))  # the request's own work
            append_independently(engine, **fields, purpose="再次尝试")
            conn.rollback()
    with engine.connect() as conn:
        kept = list(reversed(search(conn, subject_id=42)))
    assert [e.action for e in kept] == ["access.denied"] * (2 if is_pg(engine) else 1)
    assert [e.seq for e in kept] == list(range(1, len(kept) + 1))
    assert check(engine).ok


def test_an_independent_append_beside_the_callers_own_append_takes_another_chain(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_only(engine)
    monkeypatch.setattr("xinyong.audit.service.INDEPENDENT_WAIT_S", 0.3)
    with engine.connect() as conn:
        conn.begin()
        append(conn, **CLERK, action="record.read")
        assert append_independently(engine, **CLERK, action="access.denied").chain == 2
        # with every chain busy the wait is bounded: an error, not a request that hangs
        monkeypatch.setattr("xinyong.audit.service.CHAINS", 1)
        with pytest.raises(DBAPIError, match="lock timeout"):
            append_independently(engine, **CLERK, action="access.denied", outcome="denied")
        conn.commit()
    assert check(engine).checked == 2


def test_search_filters_for_auditors(engine: Engine, clock: Clock) -> None:
    add(engine, 3)
    add(engine, 2, actor="cli:root@host", role="operator", action="department.add")
    with engine.connect() as conn:
        assert [e.seq for e in search(conn, actor="cli:root@host")] == [5, 4]
        assert [e.seq for e in search(conn, action="record.read", limit=2)] == [3, 2]
        assert [e.seq for e in search(conn, subject_id=101)] == [5, 2]
        everything = search(conn)
        middle = everything[2].at
        assert {e.seq for e in search(conn, since=middle)} == {3, 4, 5}
        assert {e.seq for e in search(conn, until=middle)} == {1, 2}
        naive = middle.replace(tzinfo=None)  # naive is taken as UTC
        assert {e.seq for e in search(conn, since=naive)} == {3, 4, 5}
        assert search(conn, since=clock.now() + timedelta(minutes=1)) == []


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    point_at(settings, monkeypatch)
    reset_cli()
    yield
    reset_cli()


def xinyong(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_verify_exits_0_on_an_intact_chain(cli: None, engine: Engine) -> None:
    assert xinyong("audit", "verify").stdout.strip() == "审计链完整：0 条，防改写保护在位"
    add(engine, 3)
    result = xinyong("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "审计链完整：3 条" in result.stdout


def test_cli_verify_exits_1_naming_the_first_bad_event(cli: None, engine: Engine) -> None:
    add(engine, 4)
    tamper(engine, "UPDATE audit_events SET actor = '李四' WHERE seq = 2")
    result = xinyong("audit", "verify")
    assert result.exit_code == 1
    assert "第 2 条" in result.stderr
    # a broken chain is not exported as a trusted head
    assert xinyong("audit", "anchor", "--output", "/nonexistent/x.json").exit_code == 1


def test_cli_anchor_file_catches_a_cut_tail(cli: None, engine: Engine, tmp_path: Path) -> None:
    add(engine, 3)
    kept = tmp_path / "审计链头.json"
    exported = xinyong("audit", "anchor", "--output", kept)
    assert exported.exit_code == 0, exported.output
    assert json.loads(kept.read_text(encoding="utf-8"))["seq"] == 3
    assert xinyong("audit", "verify", "--anchor", kept).exit_code == 0

    with engine.connect() as conn:
        second = next(e for e in search(conn) if e.seq == 2)
    tamper(
        engine,
        "DELETE FROM audit_events WHERE seq = 3",
        f"UPDATE audit_anchor SET seq = 2, hash = '{second.hash}'",
    )
    assert xinyong("audit", "verify").exit_code == 0
    cut = xinyong("audit", "verify", "--anchor", kept)
    assert cut.exit_code == 1
    assert "第 3 条" in cut.stderr

    broken = tmp_path / "坏.json"
    broken.write_text("{", encoding="utf-8")
    refused = xinyong("audit", "verify", "--anchor", broken)
    assert refused.exit_code == 2
    assert "AUDIT_ANCHOR_INVALID" in refused.stderr


def test_cli_list(cli: None, engine: Engine) -> None:
    add(engine, 2)
    add(engine, 1, actor="cli:root@host", role="operator", action="department.add")
    listed = xinyong("audit", "list", "--json", "--action", "record.read")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["seq"] for r in rows] == [2, 1]
    assert rows[0]["detail"]["数据集"] == "XZCF"
    mine = json.loads(xinyong("audit", "list", "--json", "--actor", "cli:root@host").stdout)
    assert [(r["seq"], r["action"]) for r in mine] == [(3, "department.add")]
    # the table's cells fold with the console's width, fixed when the console was created
    table = xinyong("audit", "list", "--limit", "2")
    assert table.exit_code == 0, table.output
    assert "审计事件" in table.stdout


def test_verify_reports_append_only_guards_that_were_removed(engine: Engine) -> None:
    """A chain that is consistent today but whose triggers were dropped (SQLite) or disabled
    (PostgreSQL) is not reported 完整: the next rewrite would leave no trace inside."""
    add(engine, 2)
    assert check(engine).ok
    with engine.begin() as conn:
        unguard(conn)
    result = check(engine)
    assert not result.ok and result.checked == 2 and result.first_bad_seq is None
    assert "防改写保护已被移除" in result.reason and "audit_events_no" in result.reason
    with engine.begin() as conn:
        reguard(conn)
    assert check(engine).ok
    if is_pg(engine):  # the application role given back the right to rewrite
        with engine.begin() as conn:
            present = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'xinyong_app'"))
            if present.first() is not None:
                conn.execute(text("GRANT UPDATE ON audit_events TO xinyong_app"))
        result = check(engine)
        assert not result.ok and "UPDATE" in result.reason
