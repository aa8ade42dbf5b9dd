"""Webhooks: registration, signed pushes to a real local HTTP server, retries with backoff,
dead pushes listed for operators."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from notifications.receiver import Receiver, running_receiver
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.clock import aware
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.notifications.feed import feed
from xinyong.notifications.models import webhook_deliveries
from xinyong.notifications.outbox import enqueue
from xinyong.notifications.signing import verify_signature
from xinyong.notifications.webhooks import (
    RetryPolicy,
    dead_pushes,
    deliver_due,
    list_webhooks,
    register_webhook,
    retry_dead,
    unregister_webhook,
)
from xinyong.settings import Settings

SAMR = "11410900PY0000022L"
ENV = "11410900PY00000577"
OPERATOR = Principal.cli("tester@host")
# No jitter: the schedule of retries is then exact.
POLICY = RetryPolicy(base_seconds=10, cap_seconds=40, max_attempts=4, jitter=0, timeout_seconds=5)


def _register(engine: Engine, url: str, dept: str = SAMR) -> str:
    with engine.begin() as conn:
        _, secret = register_webhook(conn, OPERATOR, dept_uscc=dept, url=url)
    return secret


def _event(engine: Engine, n: int, depts: tuple[str, ...] = (SAMR,)) -> None:
    with engine.begin() as conn:
        enqueue(
            conn,
            kind="list.entered",
            subject_id=None,
            payload={"record_id": n, "list": "YZSX", "名单": "严重失信主体名单"},
            dept_usccs=depts,
            event_key=f"list.entered:record:{n}:v1",
        )


def _pushes(engine: Engine) -> list[dict[str, Any]]:
    w = webhook_deliveries
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(w).order_by(w.c.id))]


def test_a_push_arrives_signed_and_is_marked_delivered(engine: Engine, settings: Settings) -> None:
    sent = settings.clock.now().timestamp()
    with running_receiver() as receiver:
        secret = _register(engine, receiver.url)
        _event(engine, 1, (SAMR, ENV))  # ENV has no webhook: feed only
        run = deliver_due(engine, settings, policy=POLICY)
        assert (run.claimed, run.delivered) == (1, 1)
        assert len(receiver.received) == 1
        got = receiver.received[0]
    assert got.path == "/hooks/xinyong"
    assert got.headers["content-type"] == "application/json"
    timestamp = got.headers["x-xinyong-timestamp"]
    # the consumer's side, by hand: HMAC-SHA256 of "timestamp.body" with the secret
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + got.body, hashlib.sha256)
    assert got.headers["x-xinyong-signature"] == "sha256=" + expected.hexdigest()
    # stamped by the platform's clock; a receiver refuses a push stamped too long ago
    assert abs(int(timestamp) - sent) < 60
    signature = got.headers["x-xinyong-signature"]
    assert verify_signature(secret, timestamp, got.body, signature, now=sent)
    assert not verify_signature(secret, timestamp, got.body, signature, now=sent + 3600)
    assert not verify_signature("another", timestamp, got.body, signature, now=sent)
    assert not verify_signature(secret, timestamp, got.body + b" ", signature, now=sent)
    body = json.loads(got.body)
    assert body["event_id"] == got.event_id
    assert body["kind"] == "list.entered"
    assert body["dept_uscc"] == SAMR
    assert body["payload"]["名单"] == "严重失信主体名单"
    # the same event as the feed shows, with the same id
    with engine.connect() as conn:
        page = feed(conn, Principal(role=Role.CLERK, name="c", dept_uscc=SAMR), since=None)
    assert page.items[0].event_id == got.event_id
    assert body["cursor"] == page.items[0].cursor
    [push] = _pushes(engine)
    assert push["status"] == "delivered" and push["attempts"] == 1 and push["last_status"] == 200
    # nothing left to do
    assert deliver_due(engine, settings, policy=POLICY).claimed == 0


def test_a_failure_is_retried_after_backoff_with_the_same_event_id(
    engine: Engine, settings: Settings
) -> None:
    with running_receiver(Receiver(statuses=[500, 503])) as receiver:
        _register(engine, receiver.url)
        _event(engine, 1)
        t0 = settings.clock.now()  # the push became due when the event was stored
        assert deliver_due(engine, settings, now=t0, policy=POLICY).retried == 1
        [push] = _pushes(engine)
        assert push["status"] == "pending" and push["attempts"] == 1
        assert push["last_status"] == 500 and "HTTP 500" in str(push["last_error"])
        assert aware(push["next_attempt_at"]) == t0 + timedelta(seconds=10)
        # not due before the backoff has passed
        assert (
            deliver_due(engine, settings, now=t0 + timedelta(seconds=9), policy=POLICY).claimed == 0
        )
        t1 = t0 + timedelta(seconds=10)
        assert deliver_due(engine, settings, now=t1, policy=POLICY).retried == 1
        [push] = _pushes(engine)
        # the wait doubles
        assert aware(push["next_attempt_at"]) == t1 + timedelta(seconds=20)
        t2 = t1 + timedelta(seconds=20)
        assert deliver_due(engine, settings, now=t2, policy=POLICY).delivered == 1
        ids = receiver.event_ids()
    assert len(ids) == 3 and len(set(ids)) == 1
    [push] = _pushes(engine)
    assert push["status"] == "delivered" and push["attempts"] == 3


def test_attempts_used_up_make_a_dead_push_that_operators_see_and_can_retry(
    engine: Engine, settings: Settings
) -> None:
    with running_receiver(Receiver(default_status=500)) as receiver:
        _register(engine, receiver.url)
        _event(engine, 1)
        t = settings.clock.now()
        waits = []
        for _ in range(POLICY.max_attempts):
            run = deliver_due(engine, settings, now=t, policy=POLICY)
            assert run.claimed == 1
            [push] = _pushes(engine)
            if push["status"] == "dead":
                break
            nxt = aware(push["next_attempt_at"])
            assert nxt is not None
            waits.append((nxt - t).total_seconds())
            t = nxt
        assert waits == [10, 20, 40]  # doubling, then the cap
        [push] = _pushes(engine)
        assert push["status"] == "dead" and push["attempts"] == 4
        with engine.connect() as conn:
            [dead] = dead_pushes(conn)
            assert dead["dept_uscc"] == SAMR and dead["url"] == receiver.url
            assert dead_pushes(conn, dept_uscc=ENV) == []
            assert list_webhooks(conn)[0].dead == 1
        # a dead push is never picked up again by itself
        assert deliver_due(engine, settings, now=t + timedelta(days=1), policy=POLICY).claimed == 0
        # the department fixes its receiver; the operator gives the push another round
        receiver.default_status = 204
        with engine.begin() as conn:
            retry_dead(conn, int(dead["id"]))
        assert deliver_due(engine, settings, policy=POLICY).delivered == 1
        assert len(set(receiver.event_ids())) == 1
    with engine.begin() as conn, pytest.raises(NotFound):
        retry_dead(conn, int(dead["id"]))


def test_an_unreachable_endpoint_is_retried(engine: Engine, settings: Settings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _register(engine, f"http://127.0.0.1:{port}/hook")
    _event(engine, 1)
    assert deliver_due(engine, settings, policy=POLICY).retried == 1
    [push] = _pushes(engine)
    assert push["status"] == "pending" and push["last_status"] is None
    assert "ConnectError" in str(push["last_error"])


def test_registration_rules_and_removal(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        for bad in ("ftp://example.org/hook", "not a url", "http://", "javascript:alert(1)"):
            with pytest.raises(XinyongError) as caught:
                register_webhook(conn, OPERATOR, dept_uscc=SAMR, url=bad)
            assert caught.value.code == "WEBHOOK_URL_INVALID"
        other = Principal(role=Role.CLERK, name="env-clerk", account_id=2, dept_uscc=ENV)
        with pytest.raises(NotAllowed):
            register_webhook(conn, other, dept_uscc=SAMR, url="https://samr.example/hook")
        own = Principal(role=Role.DEPT_SYSTEM, name="samr-sys", account_id=3, dept_uscc=SAMR)
        endpoint, secret = register_webhook(
            conn, own, dept_uscc=SAMR, url="https://samr.example/hook"
        )
        assert len(secret) == 64
        with pytest.raises(Conflict):
            register_webhook(conn, OPERATOR, dept_uscc=SAMR, url="https://samr.example/other")
        listed = list_webhooks(conn)
        assert [e.url for e in listed] == ["https://samr.example/hook"]
        assert secret not in json.dumps([e.as_dict() for e in listed])
    _event(engine, 1)
    with engine.begin() as conn:
        removed = unregister_webhook(conn, OPERATOR, dept_uscc=SAMR)
        assert removed.id == endpoint.id and not removed.active
        with pytest.raises(NotFound):
            unregister_webhook(conn, OPERATOR, dept_uscc=SAMR)
        assert list_webhooks(conn) == []
        assert len(list_webhooks(conn, include_removed=True)) == 1
        actions = [r.action for r in conn.execute(select(audit_events.c.action))]
    assert actions == ["notification.webhook_add", "notification.webhook_remove"]
    # the push not yet made is cancelled; the notification stays in the feed
    [push] = _pushes(engine)
    assert push["status"] == "cancelled"
    assert deliver_due(engine, settings, policy=POLICY).claimed == 0
    # a new endpoint gets a new secret and only notifications from then on
    with engine.begin() as conn:
        _, again = register_webhook(conn, OPERATOR, dept_uscc=SAMR, url="https://samr.example/v2")
    assert again != secret
    assert len(_pushes(engine)) == 1
