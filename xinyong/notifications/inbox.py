"""The in-product inbox (站内消息) of subjects and departments, and the SMS / e-mail copies.

Every change of a case tells the subject it is about and the department whose queue holds it
(the platform's operators when no department does). The inbox row is written in the caller's
transaction, so a message exists exactly when the change committed. SMS and e-mail go through
``Sender``; this installation has no gateway, so ``LoggingSender`` writes what would be sent to
the log (logger ``xinyong.notifications.outgoing``) — a real gateway implements the same
protocol and is set with ``use_sender``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from xinyong import clock
from xinyong.notifications.models import inbox_messages

log = logging.getLogger("xinyong.notifications.outgoing")


class Case(Protocol):
    """What the inbox needs of a case (``xinyong.cases.service.Case``, a layer above)."""

    @property
    def id(self) -> int: ...
    @property
    def case_no(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def subject_id(self) -> int | None: ...
    @property
    def dept_uscc(self) -> str | None: ...


class Sender(Protocol):
    def send(self, channel: str, recipient: str, title: str, body: str) -> None:
        """Send one message by ``channel`` (sms / email) to ``recipient`` (who, not where:
        the gateway looks up the address of a subject or department)."""
        ...


class LoggingSender:
    """Writes each message to the log instead of sending it."""

    def send(self, channel: str, recipient: str, title: str, body: str) -> None:
        log.info("%s to %s: %s — %s", channel, recipient, title, body)


_sender: Sender = LoggingSender()


def use_sender(sender: Sender) -> Sender:
    """Use ``sender`` from now on; returns the one it replaces."""
    global _sender
    previous, _sender = _sender, sender
    return previous


@dataclass(frozen=True)
class Message:
    id: int
    subject_id: int | None
    dept_uscc: str | None
    case_id: int | None
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "created_at": self.created_at.isoformat(),
            "read": self.read_at is not None,
        }


def post(
    conn: Connection,
    *,
    subject_id: int | None,
    dept_uscc: str | None,
    title: str,
    body: str,
    case_id: int | None = None,
    link: str | None = None,
) -> None:
    conn.execute(
        insert(inbox_messages).values(
            subject_id=subject_id,
            dept_uscc=dept_uscc,
            case_id=case_id,
            title=title,
            body=body,
            link=link,
            created_at=clock.now(conn),
        )
    )


def case_changed(conn: Connection, found: Case, title: str, body: str) -> None:
    """Tell the subject (unless the case is a complaint: a reported subject is not told who
    reported it, nor tracked by the reporter's inbox) and the handling queue."""
    if found.subject_id is not None and found.kind != "complaint":
        post(
            conn,
            subject_id=found.subject_id,
            dept_uscc=None,
            case_id=found.id,
            title=title,
            body=body,
            link=f"/me/cases/{found.case_no}",
        )
        for channel in ("sms", "email"):
            _sender.send(channel, f"subject:{found.subject_id}", title, body)
    post(
        conn,
        subject_id=None,
        dept_uscc=found.dept_uscc,
        case_id=found.id,
        title=title,
        body=body,
        link=f"/dept/cases/{found.case_no}",
    )
    _sender.send("email", f"dept:{found.dept_uscc or 'platform'}", title, body)


def tell_subject(conn: Connection, subject_id: int, title: str, body: str) -> None:
    """A message about the subject's 查询授权 (a paper one recorded for it, then confirmed),
    in its inbox and by SMS and e-mail: what ``accounts.authorisations`` calls ``notify``."""
    post(
        conn,
        subject_id=subject_id,
        dept_uscc=None,
        title=title,
        body=body,
        link="/me#authorisations",
    )
    for channel in ("sms", "email"):
        _sender.send(channel, f"subject:{subject_id}", title, body)


def _where(subject_id: int | None, dept_uscc: str | None) -> Any:
    if subject_id is not None:
        return inbox_messages.c.subject_id == subject_id
    if dept_uscc is not None:
        return inbox_messages.c.dept_uscc == dept_uscc
    return (inbox_messages.c.subject_id.is_(None)) & (inbox_messages.c.dept_uscc.is_(None))


def messages(
    conn: Connection, *, subject_id: int | None, dept_uscc: str | None, limit: int = 50
) -> list[Message]:
    """A mailbox, newest first: a subject's, a department's, or (both None) the platform's."""
    rows = conn.execute(
        select(inbox_messages)
        .where(_where(subject_id, dept_uscc))
        .order_by(inbox_messages.c.id.desc())
        .limit(limit)
    ).all()
    return [
        Message(
            r.id,
            r.subject_id,
            r.dept_uscc,
            r.case_id,
            r.title,
            r.body,
            r.link,
            clock.aware(r.created_at),  # type: ignore[arg-type]
            clock.aware(r.read_at),
        )
        for r in rows
    ]


def unread(conn: Connection, *, subject_id: int | None, dept_uscc: str | None) -> int:
    return int(
        conn.scalar(
            select(func.count())
            .select_from(inbox_messages)
            .where(_where(subject_id, dept_uscc), inbox_messages.c.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    conn: Connection, *, subject_id: int | None, dept_uscc: str | None, reader: str
) -> int:
    """Mark the whole mailbox read (opening the inbox page reads it)."""
    return conn.execute(
        update(inbox_messages)
        .where(_where(subject_id, dept_uscc), inbox_messages.c.read_at.is_(None))
        .values(read_at=clock.now(conn), read_by=reader)
    ).rowcount
