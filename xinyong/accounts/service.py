"""Accounts, passwords, login throttling and API tokens.

Every function takes a ``Connection`` and never commits. One exception to "an error means
nothing happened": ``authenticate`` writes the failure count (and the lock) before it raises
``LoginRefused``, so the caller must commit after catching it, or throttling would never
trigger.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, insert, select, update

from xinyong.accounts.models import accounts, api_tokens
from xinyong.accounts.roles import (
    ACCOUNT_ROLES,
    DEPARTMENT_ROLES,
    GOVERNMENT_ROLES,
    Principal,
    Role,
)
from xinyong.catalog.loader import Catalog
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.subjects.models import subjects

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
PASSWORD_MIN_LENGTH = 10
# Argon2 over a megabyte of "password" is a cheap way to burn the server's CPU.
PASSWORD_MAX_LENGTH = 256
TOKEN_PREFIX = "xy_"
# last_used_at is a hint for operators, not an audit record (that is the audit log's job):
# writing it at most once a minute keeps a busy department system from turning every API
# call into a row update.
_LAST_USED_GRANULARITY = timedelta(minutes=1)

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
_CHINA = ZoneInfo("Asia/Shanghai")
# argon2-cffi's defaults follow RFC 9106's recommendation; kept in one place so that raising
# them later makes check_needs_rehash upgrade stored hashes on the next login.
_hasher = PasswordHasher()

_LOGIN_FAILED = "用户名或密码错误"


class LoginRefused(NotAllowed):
    """A refused login. The failure count (and any lock) is already written on the connection:
    commit before answering."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    dept_uscc: str | None
    subject_id: int | None
    has_password: bool
    disabled_at: datetime | None
    created_at: datetime
    created_by: str
    failed_logins: int
    locked_until: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "role_label": self.role.label,
            "dept_uscc": self.dept_uscc,
            "subject_id": self.subject_id,
            "has_password": self.has_password,
            "disabled_at": _iso(self.disabled_at),
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "failed_logins": self.failed_logins,
            "locked_until": _iso(self.locked_until),
        }


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
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "last_used_at": _iso(self.last_used_at),
        }


# -- time ----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # SQLite keeps timestamps as text without offset: store UTC everywhere, or a Beijing-time
    # value would be read back eight hours off.
    return now.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back as naive UTC, PostgreSQL as aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware is not None else None


def beijing(value: datetime) -> str:
    aware = _aware(value)
    assert aware is not None
    return aware.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M:%S")


# -- accounts ------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password_policy(password: str, *, username: str = "") -> None:
    """A minimal policy: long enough, more than one kind of character, not the username.
    Length matters most (NIST SP 800-63B); the class rule only stops "aaaaaaaaaa" and
    "1234567890"."""
    if len(password) > PASSWORD_MAX_LENGTH:
        raise XinyongError("PASSWORD_INVALID", f"密码过长：最多 {PASSWORD_MAX_LENGTH} 个字符")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise XinyongError(
            "PASSWORD_WEAK",
            f"密码太短：至少 {PASSWORD_MIN_LENGTH} 个字符（现为 {len(password)} 个）",
        )
    classes = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
        for c in password
    }
    if len(classes) < 2:
        raise XinyongError(
            "PASSWORD_WEAK",
            "密码太简单：须包含至少两类字符（小写字母、大写字母、数字、其他符号或汉字）",
        )
    if username and normalise_username(password) == normalise_username(username):
        raise XinyongError("PASSWORD_WEAK", "密码不能与用户名相同")


def create_account(
    conn: Connection,
    catalog: Catalog,
    *,
    username: str,
    role: Role | str,
    display_name: str,
    password: str | None = None,
    dept_uscc: str | None = None,
    subject_id: int | None = None,
    created_by: str,
    now: datetime | None = None,
) -> Account:
    """Create an account. Clerks and department systems act for one department of the
    catalogue; self-service accounts speak for one subject; every other role has neither.
    Without a password the account can only use tokens (department systems)."""
    name = normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise XinyongError(
            "USERNAME_INVALID",
            f"用户名“{username}”不合规：须为 3–64 个字母、数字或 . _ @ -，并以字母或数字开头",
        )
    role = _role(role)
    dept = (dept_uscc or "").strip().upper() or None
    if role in DEPARTMENT_ROLES:
        if dept is None:
            raise XinyongError(
                "ACCOUNT_DEPT_REQUIRED", f"{role.label}账号必须指定所属部门（统一社会信用代码）"
            )
        dept = catalog.department(dept).uscc
    elif dept is not None:
        raise XinyongError(
            "ACCOUNT_DEPT_NOT_ALLOWED", f"{role.label}账号不属于某个报送部门，不能指定部门"
        )
    if role is Role.SUBJECT:
        if subject_id is None:
            raise XinyongError("ACCOUNT_SUBJECT_REQUIRED", "信用主体账号必须指定对应的信用主体")
        if conn.scalar(select(subjects.c.id).where(subjects.c.id == subject_id)) is None:
            raise NotFound("SUBJECT_NOT_FOUND", f"信用主体 {subject_id} 不存在")
    elif subject_id is not None:
        raise XinyongError("ACCOUNT_SUBJECT_NOT_ALLOWED", f"{role.label}账号不能关联信用主体")
    if password is None and role is not Role.DEPT_SYSTEM:
        raise XinyongError("PASSWORD_REQUIRED", f"{role.label}账号须设置登录密码")
    if password is not None:
        check_password_policy(password, username=name)
    display = display_name.strip()
    if not display:
        raise XinyongError("ACCOUNT_NAME_REQUIRED", "请填写账号的显示名称（如姓名或系统名称）")
    if conn.scalar(select(accounts.c.id).where(accounts.c.username == name)) is not None:
        raise Conflict("ACCOUNT_EXISTS", f"用户名“{name}”已被使用")
    account_id = conn.scalar(
        insert(accounts)
        .values(
            username=name,
            display_name=display,
            role=role.value,
            dept_uscc=dept,
            subject_id=subject_id,
            password_hash=_hasher.hash(password) if password is not None else None,
            created_at=_now(now),
            created_by=created_by,
            failed_logins=0,
        )
        .returning(accounts.c.id)
    )
    assert account_id is not None
    return _account(_account_row(conn, accounts.c.id == account_id))


def get_account(conn: Connection, username: str) -> Account:
    return _account(_account_row(conn, accounts.c.username == normalise_username(username)))


def list_accounts(conn: Connection, *, include_disabled: bool = True) -> list[Account]:
    stmt = select(accounts).order_by(accounts.c.username)
    if not include_disabled:
        stmt = stmt.where(accounts.c.disabled_at.is_(None))
    return [_account(row) for row in conn.execute(stmt)]


def disable_account(conn: Connection, username: str, *, now: datetime | None = None) -> Account:
    """Disable an account: it can no longer log in and its tokens stop working. Accounts are
    never deleted, so that the audit log's actors keep meaning something."""
    account = get_account(conn, username)
    if account.disabled_at is None:
        conn.execute(
            update(accounts).where(accounts.c.id == account.id).values(disabled_at=_now(now))
        )
        account = get_account(conn, username)
    return account


def set_password(conn: Connection, username: str, password: str) -> Account:
    """Set a new password; also clears any lock, which is how an operator unlocks early."""
    account = get_account(conn, username)
    check_password_policy(password, username=account.username)
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(password_hash=_hasher.hash(password), failed_logins=0, locked_until=None)
    )
    return get_account(conn, username)


def _role(role: Role | str) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in ACCOUNT_ROLES:
        known = "、".join(f"{r.value}（{r.label}）" for r in ACCOUNT_ROLES)
        raise XinyongError("ROLE_UNKNOWN", f"没有角色“{role}”。可选：{known}") from None
    return parsed


def _account_row(conn: Connection, where: Any) -> Row[Any]:
    row = conn.execute(select(accounts).where(where)).one_or_none()
    if row is None:
        raise NotFound("ACCOUNT_NOT_FOUND", "账号不存在")
    return row


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        dept_uscc=row.dept_uscc,
        subject_id=row.subject_id,
        has_password=row.password_hash is not None,
        disabled_at=_aware(row.disabled_at),
        created_at=_aware(row.created_at) or row.created_at,
        created_by=row.created_by,
        failed_logins=row.failed_logins,
        locked_until=_aware(row.locked_until),
    )


def _principal(row: Row[Any], source: str) -> Principal:
    return Principal(
        role=Role(row.role),
        name=row.username,
        account_id=row.id,
        dept_uscc=row.dept_uscc,
        subject_id=row.subject_id,
        source=source,
    )


# -- login ---------------------------------------------------------------------------------


@cache
def _decoy_hash() -> str:
    # Verified against when the user is unknown, so that an unknown name costs as much time
    # as a wrong password and response times do not reveal which usernames exist.
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _decoy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    conn: Connection,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    source: str = "",
) -> Principal:
    """Check a username and password and return the principal of the account.

    A wrong password and an unknown username give the same ``LOGIN_FAILED`` (no user
    enumeration). After ``MAX_FAILED_LOGINS`` consecutive failures the account is locked for
    ``LOCK_DURATION``; while locked the password is not even checked, so guessing cannot go
    on. A disabled account is reported as such only to someone who knows its password.
    Raises ``LoginRefused``; the failure count is written first, so commit after catching it.
    """
    at = _now(now)
    row = conn.execute(
        select(accounts).where(accounts.c.username == normalise_username(username))
    ).one_or_none()
    if row is None:
        _verify(None, password)
        raise LoginRefused("LOGIN_FAILED", _LOGIN_FAILED)
    locked_until = _aware(row.locked_until)
    if locked_until is not None and locked_until > at:
        raise _locked(locked_until)
    if not _verify(row.password_hash, password):
        failures = row.failed_logins + 1
        if failures >= MAX_FAILED_LOGINS:
            until = at + LOCK_DURATION
            # The count restarts, so that after the lock the account gets a fresh five tries
            # rather than being locked again by the first mistake.
            conn.execute(
                update(accounts)
                .where(accounts.c.id == row.id)
                .values(failed_logins=0, locked_until=until)
            )
            raise _locked(until)
        conn.execute(
            update(accounts)
            .where(accounts.c.id == row.id)
            .values(failed_logins=failures, locked_until=None)
        )
        raise LoginRefused("LOGIN_FAILED", _LOGIN_FAILED)
    if row.disabled_at is not None:
        raise LoginRefused("ACCOUNT_DISABLED", "该账号已停用，请联系平台管理员")
    changes: dict[str, Any] = {}
    if row.failed_logins or row.locked_until is not None:
        changes.update(failed_logins=0, locked_until=None)
    if _hasher.check_needs_rehash(row.password_hash):
        # The hashing parameters were raised since this password was set: upgrade it now,
        # the only moment the plain password is at hand.
        changes["password_hash"] = _hasher.hash(password)
    if changes:
        conn.execute(update(accounts).where(accounts.c.id == row.id).values(**changes))
    return _principal(row, source)


def _locked(until: datetime) -> LoginRefused:
    return LoginRefused(
        "LOGIN_LOCKED",
        f"登录失败次数过多，账号已临时锁定至 {beijing(until)}（北京时间），请届时再试",
    )


# -- tokens --------------------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    conn: Connection,
    account_id: int,
    *,
    label: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """Issue an API token and return its secret. The secret is shown this once: only its
    SHA-256 is stored, so a leaked database does not leak working tokens."""
    at = _now(now)
    row = _account_row(conn, accounts.c.id == account_id)
    role = Role(row.role)
    if role not in GOVERNMENT_ROLES:
        # Subjects log in themselves; a long-lived bearer secret for them would only be a
        # way to hand their access to someone else.
        raise NotAllowed("TOKEN_NOT_ALLOWED", f"{role.label}账号不能申领接口令牌")
    if row.disabled_at is not None:
        raise NotAllowed("ACCOUNT_DISABLED", "该账号已停用，不能申领接口令牌")
    if expires_at is not None:
        expires_at = _now(expires_at)
        if expires_at <= at:
            raise XinyongError("TOKEN_EXPIRY_INVALID", "令牌的有效期须晚于当前时间")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(api_tokens).values(
            account_id=account_id,
            token_hash=_token_hash(secret),
            label=label.strip() or "未命名",
            created_at=at,
            expires_at=expires_at,
        )
    )
    return secret


def principal_for_token(
    conn: Connection, secret: str, *, now: datetime | None = None, source: str = ""
) -> Principal:
    """The principal a presented token stands for. Unknown, revoked and expired tokens, and
    tokens of disabled accounts, are all ``TOKEN_INVALID``: the caller learns nothing about
    which secrets once existed."""
    at = _now(now)
    invalid = NotAllowed("TOKEN_INVALID", "接口令牌无效、已过期或已被吊销")
    if not secret.startswith(TOKEN_PREFIX):
        raise invalid
    row = conn.execute(
        select(
            api_tokens.c.id.label("token_id"),
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
            api_tokens.c.last_used_at,
            accounts,
        )
        .join(accounts, accounts.c.id == api_tokens.c.account_id)
        .where(api_tokens.c.token_hash == _token_hash(secret))
    ).one_or_none()
    if row is None or row.revoked_at is not None or row.disabled_at is not None:
        raise invalid
    expires_at = _aware(row.expires_at)
    if expires_at is not None and expires_at <= at:
        raise invalid
    last_used = _aware(row.last_used_at)
    if last_used is None or at - last_used >= _LAST_USED_GRANULARITY:
        conn.execute(
            update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used_at=at)
        )
    return _principal(row, source)


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
        created_at=_aware(row.created_at) or row.created_at,
        expires_at=_aware(row.expires_at),
        revoked_at=_aware(row.revoked_at),
        last_used_at=_aware(row.last_used_at),
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


def revoke_token(conn: Connection, token_id: int, *, now: datetime | None = None) -> TokenInfo:
    """Revoke a token; revoking it again keeps the first revocation time."""
    token = get_token(conn, token_id)
    if token.revoked_at is None:
        conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=_now(now))
        )
        token = get_token(conn, token_id)
    return token
