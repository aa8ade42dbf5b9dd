"""The pull feed: a department reads its own notifications, in order, page by page, and never
another department's."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from xinyong.accounts.roles import Principal, Role
from xinyong.errors import NotAllowed, XinyongError
from xinyong.notifications.feed import FeedPage, decode_cursor, encode_cursor, feed
from xinyong.notifications.outbox import Outgoing, enqueue_many

SAMR = "11410900PY0000022L"
ENV = "11410900PY00000577"


def _dept(uscc: str, role: Role = Role.DEPT_SYSTEM) -> Principal:
    return Principal(role=role, name=f"sys-{uscc[-4:]}", account_id=7, dept_uscc=uscc)


def _fill(engine: Engine, n: int, depts: tuple[str, ...], start: int = 0) -> None:
    with engine.begin() as conn:
        enqueue_many(
            conn,
            [
                Outgoing(
                    "list.entered",
                    None,
                    {"record_id": i, "list": "YZSX"},
                    depts,
                    f"list.entered:record:{i}:v1",
                )
                for i in range(start, start + n)
            ],
        )


def _read(engine: Engine, who: Principal, since: str | None, limit: int = 100) -> FeedPage:
    with engine.connect() as conn:
        return feed(conn, who, since=since, limit=limit)


def test_pages_follow_the_cursor_without_gaps_or_repeats(engine: Engine) -> None:
    _fill(engine, 25, (SAMR,))
    seen: list[int] = []
    since: str | None = None
    pages = 0
    while True:
        page = _read(engine, _dept(SAMR), since, limit=10)
        pages += 1
        seen.extend(n.payload["record_id"] for n in page.items)
        since = page.next
        if not page.has_more:
            break
    assert pages == 3
    assert seen == list(range(25))
    # nothing new: an empty page that hands back the same cursor
    empty = _read(engine, _dept(SAMR), since)
    assert empty.items == [] and empty.next == since and not empty.has_more
    # new notifications arrive after the cursor the consumer kept
    _fill(engine, 2, (SAMR,), start=100)
    page = _read(engine, _dept(SAMR, Role.CLERK), since)
    assert [n.payload["record_id"] for n in page.items] == [100, 101]
    assert page.items[0].event_id.startswith("evt_")
    assert page.items[0].kind == "list.entered"
    assert page.as_dict()["items"][0]["event_id"] == page.items[0].event_id


def test_a_department_never_sees_another_departments_notifications(engine: Engine) -> None:
    _fill(engine, 3, (SAMR,))
    _fill(engine, 2, (ENV,), start=10)
    _fill(engine, 1, (SAMR, ENV), start=20)
    samr = _read(engine, _dept(SAMR), None)
    env = _read(engine, _dept(ENV), None)
    assert [n.payload["record_id"] for n in samr.items] == [0, 1, 2, 20]
    assert [n.payload["record_id"] for n in env.items] == [10, 11, 20]
    # the shared event is the same event for both, with the same id
    assert samr.items[-1].event_id == env.items[-1].event_id
    # another department's cursor only positions the reader in its own feed
    assert [n.payload["record_id"] for n in _read(engine, _dept(ENV), samr.next).items] == []


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "c1_", "c1_!!!", "c1_" + "QUJD", encode_cursor(5) + "@", "c1_cy0x", "1" * 80],
)
def test_a_malformed_cursor_is_a_clear_error(engine: Engine, cursor: str) -> None:
    with pytest.raises(XinyongError) as caught:
        _read(engine, _dept(SAMR), cursor)
    assert caught.value.code == "CURSOR_INVALID"
    assert "游标" in caught.value.message


def test_cursors_round_trip() -> None:
    for seq in (0, 1, 99, 2**40):
        assert decode_cursor(encode_cursor(seq)) == seq


def test_only_a_department_reads_a_feed(engine: Engine) -> None:
    _fill(engine, 1, (SAMR,))
    for who in (
        Principal.cli("tester@host"),
        Principal(role=Role.AUDITOR, name="auditor1", account_id=3),
        Principal.public("127.0.0.1"),
    ):
        with pytest.raises(NotAllowed) as caught:
            _read(engine, who, None)
        assert caught.value.code == "FEED_NOT_ALLOWED"
    with pytest.raises(XinyongError) as bad_limit:
        _read(engine, _dept(SAMR), None, limit=0)
    assert bad_limit.value.code == "LIMIT_INVALID"
