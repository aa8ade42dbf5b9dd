"""The delivery worker killed mid-run loses nothing: `xinyong notify worker` in its own process,
SIGKILLed while a push is in flight, then started again. Every event arrives at least once and
a repeat carries the same event id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from fixtures.cli import clock_env
from sqlalchemy import Engine, func, select

from notifications.receiver import Receiver, running_receiver
from xinyong.accounts.roles import Principal
from xinyong.db import read_only
from xinyong.notifications.models import notification_events, webhook_deliveries
from xinyong.notifications.outbox import Outgoing, enqueue_many
from xinyong.notifications.signing import verify_signature
from xinyong.notifications.webhooks import register_webhook
from xinyong.settings import Settings

XINYONG = [sys.executable, "-c", "from xinyong.cli import main; main()"]
SAMR = "11410900PY0000022L"
EVENTS = 30
BATCH = 4
HELD = 6  # the request held open while the worker is killed: inside the second claimed batch


def _statuses(engine: Engine) -> Counter[str]:
    w = webhook_deliveries
    with engine.connect() as conn:
        read_only(conn)  # SQLite: a poller must not take the writer's lock from the worker
        return Counter(
            {
                r[0]: r[1]
                for r in conn.execute(select(w.c.status, func.count()).group_by(w.c.status))
            }
        )


def _wait(condition: object, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "XINYONG_DATABASE_URL": settings.database_url, **clock_env(settings)}
    env.pop("DATABASE_URL", None)
    args = [
        *XINYONG,
        "notify",
        "worker",
        "--interval",
        "0.1",
        "--batch",
        str(BATCH),
        "--lease-seconds",
        "2",
        "--timeout",
        "30",
    ]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_killed_worker_loses_no_event(engine: Engine, settings: Settings) -> None:
    with running_receiver(Receiver(hold_request=HELD)) as receiver:
        with engine.begin() as conn:
            _, secret = register_webhook(
                conn, Principal.cli("tester@host"), dept_uscc=SAMR, url=receiver.url
            )
            enqueue_many(
                conn,
                [
                    Outgoing("list.entered", None, {"record_id": n}, (SAMR,), f"list:{n}")
                    for n in range(EVENTS)
                ],
            )
        with engine.connect() as conn:
            all_ids = set(conn.execute(select(notification_events.c.event_uid)).scalars())

        first = _worker(settings)
        try:
            # The worker is in the middle of a POST the receiver holds open: kill it hard.
            assert receiver.held.wait(120), first.stderr.read().decode() if first.stderr else ""
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            if first.poll() is None:
                first.kill()
        receiver.release.set()

        before = _statuses(engine)
        # what was confirmed before the kill, and the held push still pending (its 200 came
        # too late for a dead worker): nothing is lost, nothing is marked done unseen
        assert before["delivered"] == HELD - 1
        assert before["pending"] == EVENTS - (HELD - 1)
        assert len(set(receiver.event_ids())) == HELD

        second = _worker(settings)
        try:
            _wait(lambda: _statuses(engine)["delivered"] == EVENTS, "every push delivered")
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(30)
        received = list(receiver.received)

    counts = Counter(r.event_id for r in received)
    assert set(counts) == all_ids  # every event at least once
    repeats = [eid for eid, n in counts.items() if n > 1]
    assert repeats, "the held push must have been sent again"
    held_id = received[HELD - 1].event_id
    assert held_id in repeats
    for r in received:
        # a repeat is the same event: same id in header and body, still correctly signed
        body = json.loads(r.body)
        assert body["event_id"] == r.event_id
        assert verify_signature(
            secret,
            r.headers["x-xinyong-timestamp"],
            r.body,
            r.headers["x-xinyong-signature"],
            now=settings.clock.now().timestamp(),
        )
    bodies = {json.loads(r.body)["payload"]["record_id"] for r in received if r.event_id == held_id}
    assert len(bodies) == 1
