"""The pull feed (通知拉取): a department reads its own notifications after a cursor.

The cursor is opaque to consumers: today it wraps the department's delivery number, and it may
carry more tomorrow without breaking anyone who just passes back the ``next`` they were given.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal
from xinyong.clock import aware
from xinyong.errors import NotAllowed, XinyongError
from xinyong.notifications.models import notification_deliveries, notification_events

MAX_LIMIT = 1000
_CURSOR_PREFIX = "c1_"
_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,17})$")


@dataclass(frozen=True)
class Notification:
    """One notification as a department reads it."""

    event_id: str  # stable: the same event always carries the same id, drop repeats by it
    kind: str
    subject_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    cursor: str  # resume after this notification

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "subject_id": self.subject_id,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
            "cursor": self.cursor,
        }


@dataclass(frozen=True)
class FeedPage:
    items: list[Notification]
    # Pass back as ``since`` to read on; equals ``since`` when nothing new has arrived.
    next: str
    has_more: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": [n.as_dict() for n in self.items],
            "next": self.next,
            "has_more": self.has_more,
        }


def encode_opaque(prefix: str, tag: str, seq: int) -> str:
    """An opaque cursor: ``prefix`` + base64 of ``tag`` and the number (this feed's, and the
    exchange's change feed)."""
    return prefix + base64.urlsafe_b64encode(f"{tag}{seq}".encode()).decode().rstrip("=")


def decode_opaque(cursor: str, prefix: str, tag: str, bad: XinyongError) -> int:
    """The number ``encode_opaque`` wrapped; ``bad`` for anything else."""
    if not cursor.startswith(prefix) or len(cursor) > 64:
        raise bad
    body = cursor[len(prefix) :]
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad from None
    match = _NUMBER.match(text[len(tag) :]) if text.startswith(tag) else None
    if match is None:
        raise bad
    return int(match.group(0))


def encode_cursor(seq: int) -> str:
    return encode_opaque(_CURSOR_PREFIX, "s", seq)


def decode_cursor(cursor: str) -> int:
    """The delivery number a cursor stands for; anything else is ``CURSOR_INVALID``."""
    bad = XinyongError(
        "CURSOR_INVALID", "通知游标无效：请使用上一次返回的 next 值，或不带 since 从头读取"
    )
    return decode_opaque(cursor, _CURSOR_PREFIX, "s", bad)


def feed(
    conn: Connection, principal: Principal, *, since: str | None, limit: int = 100
) -> FeedPage:
    """The department's notifications after ``since`` (from the first without it), oldest
    first, at most ``limit``. Only a department principal reads a feed, and only its own."""
    if principal.role not in DEPARTMENT_ROLES or not principal.dept_uscc:
        raise NotAllowed("FEED_NOT_ALLOWED", "只有部门经办人或部门系统可以读取本部门的通知")
    if not 1 <= limit <= MAX_LIMIT:
        raise XinyongError("LIMIT_INVALID", f"每次读取的条数应在 1 到 {MAX_LIMIT} 之间")
    after = decode_cursor(since) if since else 0
    d, e = notification_deliveries, notification_events
    rows = conn.execute(
        select(d.c.seq, e.c.event_uid, e.c.kind, e.c.subject_id, e.c.payload, e.c.created_at)
        .select_from(d.join(e, e.c.id == d.c.event_id))
        .where(d.c.dept_uscc == principal.dept_uscc, d.c.seq > after)
        .order_by(d.c.seq)
        .limit(limit + 1)
    ).all()
    items = [
        Notification(
            event_id=r.event_uid,
            kind=r.kind,
            subject_id=r.subject_id,
            payload=r.payload,
            created_at=aware(r.created_at) or r.created_at,
            cursor=encode_cursor(r.seq),
        )
        for r in rows[:limit]
    ]
    return FeedPage(
        items=items,
        next=items[-1].cursor if items else encode_cursor(after),
        has_more=len(rows) > limit,
    )
