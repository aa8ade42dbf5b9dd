"""Login sessions: created at login with a fresh random id, looked up per request, ended at
logout. Only the id's hash is stored (see models.py)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from xinyong import clock
from xinyong.accounts.models import accounts
from xinyong.accounts.roles import Principal
from xinyong.accounts.service import principal_of
from xinyong.clock import aware
from xinyong.web.models import web_sessions


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str
    expires_at: datetime
    # the account's password was set by an operator: every page but the change form redirects
    must_change_password: bool = False


def start(conn: Connection, principal: Principal, *, hours: int) -> tuple[str, Session]:
    """A new session for a just-authenticated principal; returns the id for the cookie."""
    assert principal.account_id is not None
    session_id = secrets.token_urlsafe(32)
    now = clock.now(conn)
    session = Session(principal, secrets.token_urlsafe(32), now + timedelta(hours=hours))
    conn.execute(
        insert(web_sessions).values(
            id_hash=_hash(session_id),
            account_id=principal.account_id,
            csrf_token=session.csrf_token,
            created_at=now,
            expires_at=session.expires_at,
            source=principal.source,
        )
    )
    return session_id, session


def lookup(conn: Connection, session_id: str, *, source: str) -> Session | None:
    """The live session of a cookie, or None (unknown, expired, or its account disabled)."""
    row = conn.execute(
        select(web_sessions.c.csrf_token, web_sessions.c.expires_at, accounts)
        .join(accounts, accounts.c.id == web_sessions.c.account_id)
        .where(web_sessions.c.id_hash == _hash(session_id))
    ).one_or_none()
    if row is None or row.disabled_at is not None:
        return None
    expires_at = aware(row.expires_at)
    assert expires_at is not None
    if expires_at <= clock.now(conn):
        return None
    return Session(
        principal_of(row, source), row.csrf_token, expires_at, bool(row.must_change_password)
    )


def end(conn: Connection, session_id: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _hash(session_id)))


def end_others(conn: Connection, account_id: int, keep: str) -> int:
    """End the account's other sessions (after its password changed: a session opened with the
    old password, on another desk, must not outlive it)."""
    return conn.execute(
        delete(web_sessions).where(
            web_sessions.c.account_id == account_id, web_sessions.c.id_hash != _hash(keep)
        )
    ).rowcount


def end_all_expired(conn: Connection) -> int:
    return conn.execute(
        delete(web_sessions).where(web_sessions.c.expires_at <= clock.now(conn))
    ).rowcount
