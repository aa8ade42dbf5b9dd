"""API tokens (接口令牌) of department systems and other government accounts.

The secret is shown once, when issued; only its SHA-256 is stored, so a copy of the database
gives nobody a working token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from xinyong.accounts.models import accounts, api_tokens
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import GOVERNMENT_ROLES, Principal, Role
from xinyong.accounts.service import (
    account_row,
    iso,
    normalise_username,
    now_utc,
    principal_of,
)
from xinyong.audit import service as audit
from xinyong.clock import aware
from xinyong.errors import NotAllowed, NotFound, XinyongError

TOKEN_PREFIX = "xy_"
# last_used_at is a hint for operators, not an audit record (that is the audit log's job):
# writing it at most once a minute keeps a busy department system from turning every API
# call into a row update.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the secret, not even its hash."""

    id: int
    account_id: int
    username: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "username": self.username,
            "label": self.label,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "last_used_at": iso(self.last_used_at),
        }


# -- tokens --------------------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    conn: Connection,
    account_id: int,
    *,
    label: str,
    by: Principal,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """Issue an API token and return its secret. The secret is shown this once: only its
    SHA-256 is stored, so a leaked database does not leak working tokens. Audited as
    ``token.issue`` by ``by`` (never the secret)."""
    require_role(by, Role.OPERATOR)
    at = now_utc(conn, now)
    row = account_row(conn, accounts.c.id == account_id)
    role = Role(row.role)
    if role not in GOVERNMENT_ROLES:
        # Subjects log in themselves; a long-lived bearer secret for them would only be a
        # way to hand their access to someone else.
        raise NotAllowed("TOKEN_NOT_ALLOWED", f"{role.label}账号不能申领接口令牌")
    if row.disabled_at is not None:
        raise NotAllowed("ACCOUNT_DISABLED", "该账号已停用，不能申领接口令牌")
    if expires_at is not None:
        expires_at = now_utc(conn, expires_at)
        if expires_at <= at:
            raise XinyongError("TOKEN_EXPIRY_INVALID", "令牌的有效期须晚于当前时间")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.scalar(
        insert(api_tokens)
        .values(
            account_id=account_id,
            token_hash=_token_hash(secret),
            label=label.strip() or "未命名",
            created_at=at,
            expires_at=expires_at,
        )
        .returning(api_tokens.c.id)
    )
    audit.append_for(
        conn,
        by,
        "token.issue",
        detail={
            "token_id": token_id,
            "account_id": account_id,
            "username": row.username,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return secret


def principal_for_token(
    conn: Connection,
    secret: str,
    *,
    now: datetime | None = None,
    source: str = "",
    record_use: bool = True,
) -> Principal:
    """The principal a presented token stands for. Unknown, revoked and expired tokens, and
    tokens of disabled accounts, are all ``TOKEN_INVALID``: the caller learns nothing about
    which secrets once existed. ``record_use=False`` writes nothing (a poll that must not
    wait for SQLite's one writer while a delivery is being ingested)."""
    at = now_utc(conn, now)
    invalid = NotAllowed("TOKEN_INVALID", "接口令牌无效、已过期或已被吊销")
    if not secret.startswith(TOKEN_PREFIX):
        raise invalid
    row = conn.execute(_BY_HASH, {"token_hash": _token_hash(secret)}).one_or_none()
    if row is None or row.revoked_at is not None or row.disabled_at is not None:
        raise invalid
    expires_at = aware(row.expires_at)
    if expires_at is not None and expires_at <= at:
        raise invalid
    last_used = aware(row.last_used_at)
    if record_use and (last_used is None or at - last_used >= _LAST_USED_GRANULARITY):
        conn.execute(_TOUCH, {"token_id": row.token_id, "at": at})
    return principal_of(row, source)


# Built once: every API request with a token runs these, and SQLAlchemy re-deriving a freshly
# built statement's cache key cost more than the lookup itself (bench/check.py profile). Only
# the account columns a principal is made of are read.
_BY_HASH = (
    select(
        api_tokens.c.id.label("token_id"),
        api_tokens.c.expires_at,
        api_tokens.c.revoked_at,
        api_tokens.c.last_used_at,
        accounts.c.id,
        accounts.c.username,
        accounts.c.role,
        accounts.c.dept_uscc,
        accounts.c.subject_id,
        accounts.c.disabled_at,
    )
    .join(accounts, accounts.c.id == api_tokens.c.account_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)
_TOUCH = (
    update(api_tokens)
    .where(api_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("at"))
)


def _token_query() -> Any:
    return select(api_tokens, accounts.c.username).join(
        accounts, accounts.c.id == api_tokens.c.account_id
    )


def _token(row: Row[Any]) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        account_id=row.account_id,
        username=row.username,
        label=row.label,
        created_at=aware(row.created_at) or row.created_at,
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
        last_used_at=aware(row.last_used_at),
    )


def get_token(conn: Connection, token_id: int) -> TokenInfo:
    row = conn.execute(_token_query().where(api_tokens.c.id == token_id)).one_or_none()
    if row is None:
        raise NotFound("TOKEN_NOT_FOUND", f"令牌 {token_id} 不存在")
    return _token(row)


def find_token(conn: Connection, secret: str) -> TokenInfo:
    """The stored facts of a token whose secret is at hand (e.g. right after issuing it)."""
    row = conn.execute(
        _token_query().where(api_tokens.c.token_hash == _token_hash(secret))
    ).one_or_none()
    if row is None:
        raise NotFound("TOKEN_NOT_FOUND", "没有与此密钥对应的令牌")
    return _token(row)


def list_tokens(conn: Connection, *, username: str | None = None) -> list[TokenInfo]:
    stmt = _token_query().order_by(api_tokens.c.id)
    if username is not None:
        stmt = stmt.where(accounts.c.username == normalise_username(username))
    return [_token(row) for row in conn.execute(stmt)]


def revoke_token(
    conn: Connection, token_id: int, *, by: Principal, now: datetime | None = None
) -> TokenInfo:
    """Revoke a token; revoking it again keeps the first revocation time. Audited as
    ``token.revoke``."""
    require_role(by, Role.OPERATOR)
    token = get_token(conn, token_id)
    if token.revoked_at is None:
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id)
            .values(revoked_at=now_utc(conn, now))
        )
        token = get_token(conn, token_id)
    audit.append_for(
        conn, by, "token.revoke", detail={"token_id": token.id, "username": token.username}
    )
    return token
