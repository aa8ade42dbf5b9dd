"""Webhooks (推送地址): a department's endpoint, signed pushes, retries, and the delivery worker.

Delivery is at least once. The worker claims due pushes in a short transaction (row locks:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never take the same row; SQLite has one
writer at a time), moving each claimed push's due time to the end of a lease, and commits. It
then POSTs outside any transaction (a slow endpoint must not hold the database) and marks a
push delivered only after a 2xx answer. A worker that dies between the POST and the mark leaves
the push pending; once the lease runs out another run sends it again, with the same event id,
which is how a consumer recognises the repeat.

Every push is signed (``signing``) with the endpoint's secret.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import OperationalError

from xinyong import clock
from xinyong.accounts.policy import require_may_act_on
from xinyong.accounts.roles import Principal
from xinyong.audit.service import append_for
from xinyong.clock import aware
from xinyong.errors import Conflict, NotFound, XinyongError
from xinyong.notifications.feed import encode_cursor
from xinyong.notifications.models import (
    notification_deliveries,
    notification_events,
    webhook_deliveries,
    webhook_endpoints,
)
from xinyong.notifications.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from xinyong.settings import Settings

MAX_URL_LENGTH = 2000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How pushes are retried. A failed attempt n (1-based) waits ``base * 2**(n-1)`` seconds,
    at most ``cap``, plus up to ``jitter`` of that (so that endpoints coming back from an outage
    are not hit by every worker at once); after ``max_attempts`` the push is dead and listed
    for operators. ``lease`` must outlast a claimed batch (``batch * timeout`` at worst),
    or a second worker would send the same pushes again while the first is still at it."""

    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    max_attempts: int = 15
    jitter: float = 0.1
    timeout_seconds: float = 10.0
    lease_seconds: float = 300.0
    batch: int = 10

    def delay(self, attempts: int) -> timedelta:
        seconds = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        seconds += random.uniform(0, self.jitter * seconds) if self.jitter else 0.0
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Endpoint:
    id: int
    dept_uscc: str
    url: str
    active: bool
    created_at: datetime
    created_by: str
    removed_at: datetime | None
    pending: int = 0
    delivered: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dept_uscc": self.dept_uscc,
            "url": self.url,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "removed_at": self.removed_at.isoformat() if self.removed_at else None,
            "pending": self.pending,
            "delivered": self.delivered,
            "dead": self.dead,
        }


# -- endpoints -----------------------------------------------------------------------------------


def _may_manage(principal: Principal, dept_uscc: str) -> None:
    require_may_act_on(
        principal,
        dept_uscc,
        what="webhook",
        message="只有平台管理员或本部门可以管理本部门的推送地址",
    )


def check_url(url: str) -> str:
    value = url.strip()
    try:
        parsed = httpx.URL(value)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or len(value) > MAX_URL_LENGTH
    ):
        raise XinyongError(
            "WEBHOOK_URL_INVALID",
            f"推送地址无效：{url}（应为 http:// 或 https:// 开头的完整网址）",
        )
    return value


def register_webhook(
    conn: Connection, principal: Principal, *, dept_uscc: str, url: str
) -> tuple[Endpoint, str]:
    """Register the department's webhook; returns it with its secret, which is shown only now.

    From now on every new notification of the department is also pushed there. One active
    endpoint per department: remove the old one first to change it (and get a new secret).
    """
    _may_manage(principal, dept_uscc)
    value = check_url(url)
    e = webhook_endpoints
    if conn.execute(select(e.c.id).where(e.c.active_dept == dept_uscc)).first() is not None:
        raise Conflict("WEBHOOK_EXISTS", f"部门 {dept_uscc} 已有推送地址；如需更换，请先删除原地址")
    secret = secrets.token_hex(32)
    now = clock.now(conn)
    endpoint_id = conn.execute(
        insert(e)
        .values(
            dept_uscc=dept_uscc,
            url=value,
            secret=secret,
            active=True,
            active_dept=dept_uscc,
            created_at=now,
            created_by=principal.name,
        )
        .returning(e.c.id)
    ).scalar_one()
    append_for(
        conn,
        principal,
        action="notification.webhook_add",
        dept_uscc=dept_uscc,
        detail={"endpoint_id": endpoint_id, "url": value},
    )
    endpoint = Endpoint(endpoint_id, dept_uscc, value, True, now, principal.name, None)
    return endpoint, secret


def unregister_webhook(conn: Connection, principal: Principal, *, dept_uscc: str) -> Endpoint:
    """Remove the department's webhook; its pushes not yet delivered are cancelled (the
    notifications stay in the department's feed)."""
    _may_manage(principal, dept_uscc)
    e, w = webhook_endpoints, webhook_deliveries
    row = conn.execute(select(e).where(e.c.active_dept == dept_uscc)).first()
    if row is None:
        raise NotFound("WEBHOOK_NOT_FOUND", f"部门 {dept_uscc} 没有登记推送地址")
    now = clock.now(conn)
    conn.execute(
        update(e)
        .where(e.c.id == row.id)
        .values(active=False, active_dept=None, removed_at=now, removed_by=principal.name)
    )
    cancelled = conn.execute(
        update(w)
        .where(w.c.endpoint_id == row.id, w.c.status == "pending")
        .values(status="cancelled", last_error="推送地址已删除")
    ).rowcount
    append_for(
        conn,
        principal,
        action="notification.webhook_remove",
        dept_uscc=dept_uscc,
        detail={"endpoint_id": row.id, "url": row.url, "cancelled": cancelled},
    )
    return Endpoint(
        row.id, dept_uscc, row.url, False, aware(row.created_at) or now, row.created_by, now
    )


def list_webhooks(conn: Connection, *, include_removed: bool = False) -> list[Endpoint]:
    """Endpoints (never their secrets) with how many pushes are pending, delivered, dead."""
    e, w = webhook_endpoints, webhook_deliveries
    counts: dict[int, dict[str, int]] = {}
    for r in conn.execute(
        select(w.c.endpoint_id, w.c.status, func.count()).group_by(w.c.endpoint_id, w.c.status)
    ):
        counts.setdefault(r[0], {})[r[1]] = r[2]
    query = select(e).order_by(e.c.dept_uscc, e.c.id)
    if not include_removed:
        query = query.where(e.c.active.is_(True))
    found = []
    for r in conn.execute(query):
        c = counts.get(r.id, {})
        found.append(
            Endpoint(
                r.id,
                r.dept_uscc,
                r.url,
                bool(r.active),
                aware(r.created_at) or r.created_at,
                r.created_by,
                aware(r.removed_at),
                c.get("pending", 0),
                c.get("delivered", 0),
                c.get("dead", 0),
            )
        )
    return found


# -- dead pushes, for operators ------------------------------------------------------------------


def dead_pushes(conn: Connection, *, dept_uscc: str | None = None) -> list[dict[str, Any]]:
    """Pushes that used up their attempts: what was not delivered, where, and the last error."""
    w, d, ev, e = (
        webhook_deliveries,
        notification_deliveries,
        notification_events,
        webhook_endpoints,
    )
    query = (
        select(
            w.c.id,
            ev.c.event_uid.label("event_id"),
            ev.c.kind,
            d.c.dept_uscc,
            e.c.url,
            w.c.attempts,
            w.c.last_status,
            w.c.last_error,
            w.c.next_attempt_at.label("last_attempt_at"),
        )
        .select_from(
            w.join(d, d.c.id == w.c.delivery_id)
            .join(ev, ev.c.id == d.c.event_id)
            .join(e, e.c.id == w.c.endpoint_id)
        )
        .where(w.c.status == "dead")
        .order_by(w.c.id)
    )
    if dept_uscc:
        query = query.where(d.c.dept_uscc == dept_uscc)
    return [dict(r._mapping) for r in conn.execute(query)]


def retry_dead(conn: Connection, push_id: int) -> None:
    """Give a dead push a new round of attempts (after the department fixed its endpoint)."""
    w, e = webhook_deliveries, webhook_endpoints
    row = conn.execute(
        select(w.c.status, e.c.active)
        .select_from(w.join(e, e.c.id == w.c.endpoint_id))
        .where(w.c.id == push_id)
    ).first()
    if row is None or row.status != "dead":
        raise NotFound("PUSH_NOT_FOUND", f"没有编号为 {push_id} 的失败推送")
    if not row.active:
        raise Conflict("WEBHOOK_REMOVED", "该推送地址已删除，不能重新推送")
    conn.execute(
        update(w)
        .where(w.c.id == push_id)
        .values(status="pending", attempts=0, next_attempt_at=clock.now(conn))
    )


# -- the worker ----------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    """What one pass of the worker did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Push:
    id: int
    attempts: int  # including the one being made
    url: str
    secret: str
    event_id: str
    body: bytes


def deliver_due(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    http: httpx.Client | None = None,
    policy: RetryPolicy = RetryPolicy(),
) -> DeliveryRun:
    """One pass: claim up to ``policy.batch`` due pushes, POST each, record the outcome.

    ``now`` (default: the settings' clock) is the time pushes are due against and retries are
    scheduled from.
    """
    at = (now or settings.clock.now()).astimezone(UTC)
    pushes = _claim(engine, at, policy)
    run = DeliveryRun(claimed=len(pushes))
    if not pushes:
        return run
    client = http or _client(settings, policy)
    try:
        for push in pushes:
            status, error = _post(client, push, settings.clock.now())
            outcome = _record(engine, push, status, error, at, policy)
            setattr(run, outcome, getattr(run, outcome) + 1)
    finally:
        if http is None:
            client.close()
    return run


def _claim(engine: Engine, at: datetime, policy: RetryPolicy) -> list[_Push]:
    w, d, ev, e = (
        webhook_deliveries,
        notification_deliveries,
        notification_events,
        webhook_endpoints,
    )
    with engine.begin() as conn:
        due = (
            select(w.c.id)
            .where(w.c.status == "pending", w.c.next_attempt_at <= at)
            .order_by(w.c.next_attempt_at, w.c.id)
            .limit(policy.batch)
        )
        if conn.dialect.name != "sqlite":
            due = due.with_for_update(skip_locked=True)
        ids = [r.id for r in conn.execute(due)]
        if not ids:
            return []
        conn.execute(
            update(w)
            .where(w.c.id.in_(ids))
            .values(
                attempts=w.c.attempts + 1,
                next_attempt_at=at + timedelta(seconds=policy.lease_seconds),
            )
        )
        rows = conn.execute(
            select(
                w.c.id,
                w.c.attempts,
                e.c.url,
                e.c.secret,
                ev.c.event_uid,
                ev.c.kind,
                ev.c.subject_id,
                ev.c.payload,
                ev.c.created_at,
                d.c.dept_uscc,
                d.c.seq,
            )
            .select_from(
                w.join(d, d.c.id == w.c.delivery_id)
                .join(ev, ev.c.id == d.c.event_id)
                .join(e, e.c.id == w.c.endpoint_id)
            )
            .where(w.c.id.in_(ids))
            .order_by(w.c.next_attempt_at, d.c.seq)
        ).all()
    return [
        _Push(
            id=r.id,
            attempts=r.attempts,
            url=r.url,
            secret=r.secret,
            event_id=r.event_uid,
            body=_body(r),
        )
        for r in rows
    ]


def _body(r: Any) -> bytes:
    created = aware(r.created_at) or r.created_at
    return orjson.dumps(
        {
            "event_id": r.event_uid,
            "kind": r.kind,
            "subject_id": r.subject_id,
            "payload": r.payload,
            "created_at": created.isoformat(),
            "dept_uscc": r.dept_uscc,
            # the same position as in the pull feed, so a consumer may mix both
            "cursor": encode_cursor(r.seq),
        }
    )


def _post(client: httpx.Client, push: _Push, sent: datetime) -> tuple[int | None, str | None]:
    timestamp = str(int(sent.timestamp()))
    headers = {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: push.event_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(push.secret, timestamp, push.body),
    }
    try:
        response = client.post(push.url, content=push.body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def _record(
    engine: Engine,
    push: _Push,
    status: int | None,
    error: str | None,
    at: datetime,
    policy: RetryPolicy,
) -> str:
    """Store one attempt's outcome in its own short transaction, so that a crash later in the
    batch re-sends only what was not yet marked."""
    w = webhook_deliveries
    pending = (w.c.id == push.id) & (w.c.status == "pending")
    with engine.begin() as conn:
        if error is None:
            conn.execute(
                update(w)
                .where(pending)
                .values(
                    status="delivered",
                    delivered_at=clock.now(conn),
                    last_status=status,
                    last_error=None,
                )
            )
            return "delivered"
        if push.attempts >= policy.max_attempts:
            conn.execute(
                update(w).where(pending).values(status="dead", last_status=status, last_error=error)
            )
            return "dead"
        conn.execute(
            update(w)
            .where(pending)
            .values(
                next_attempt_at=at + policy.delay(push.attempts),
                last_status=status,
                last_error=error,
            )
        )
        return "retried"


def run_worker(
    engine: Engine,
    settings: Settings,
    *,
    once: bool = False,
    interval_seconds: float = 5.0,
    policy: RetryPolicy = RetryPolicy(),
) -> DeliveryRun:
    """Deliver until stopped; with ``once``, until nothing is due. Sleeps only when idle."""
    total = DeliveryRun()
    with _client(settings, policy) as client:
        while True:
            try:
                run = deliver_due(engine, settings, http=client, policy=policy)
            except OperationalError as exc:
                # The database restarting is no reason for the worker to die: what was claimed
                # and not marked is sent again after its lease.
                if once:
                    raise
                log.warning("数据库暂不可用，稍后重试：%s", exc.orig)
                time.sleep(interval_seconds)
                continue
            for name in ("claimed", "delivered", "retried", "dead"):
                setattr(total, name, getattr(total, name) + getattr(run, name))
            if run.claimed == 0:
                if once:
                    return total
                time.sleep(interval_seconds)


def _client(settings: Settings, policy: RetryPolicy) -> httpx.Client:
    # No redirects: a push answered with 3xx is a failure to look at, not a hint to follow
    # (the signature was made for the registered address).
    return httpx.Client(
        timeout=policy.timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": f"xinyong-webhook ({settings.public_base_url})"},
    )
