"""Accounts, passwords, login and API tokens.

Every function takes a ``Connection`` and never commits. One exception to "an error means
nothing happened": ``authenticate`` writes the failure counts (``throttle``) before it raises
``LoginRefused``, so the caller must commit after catching it, or throttling would never
trigger.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, insert, select, update

from xinyong import clock
from xinyong.accounts import throttle
from xinyong.accounts.models import accounts
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import (
    ACCOUNT_ROLES,
    DEPARTMENT_ROLES,
    Principal,
    Role,
)
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.clock import aware, beijing
from xinyong.departments import service as departments
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.subjects.models import subjects

PASSWORD_MIN_LENGTH = 10
# Argon2 over a megabyte of "password" is a cheap way to burn the server's CPU.
PASSWORD_MAX_LENGTH = 256

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
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
    must_change_password: bool
    disabled_at: datetime | None
    created_at: datetime
    created_by: str

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
            "must_change_password": self.must_change_password,
            "disabled_at": iso(self.disabled_at),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
        }


# -- time ----------------------------------------------------------------------------------


def now_utc(conn: Connection, now: datetime | None) -> datetime:
    """``now`` in UTC, or the connection's clock when the caller gave none."""
    if now is None:
        return clock.now(conn)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # SQLite keeps timestamps as text without offset: store UTC everywhere, or a Beijing-time
    # value would be read back eight hours off.
    return now.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    utc = aware(value)
    return utc.isoformat() if utc is not None else None


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
    by: Principal | None,
    now: datetime | None = None,
    change_at_login: bool = False,
) -> Account:
    """Create an account. Clerks and department systems act for one department of the
    catalogue; self-service accounts speak for one subject; every other role has neither.
    Without a password the account can only use tokens (department systems).
    ``change_at_login``: the password was made for the holder by someone else (the operator's
    page makes one), so the first login asks for a password of their own.

    ``by`` is who creates it, audited as ``account.create`` (a change of power, from the web
    or the command line alike); None only for self-registration, whose ``account.register``
    event is written by ``identity.register_subject``."""
    name = normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise XinyongError(
            "USERNAME_INVALID",
            f"用户名“{username}”不合规：须为 3–64 个字母、数字或 . _ @ -，并以字母或数字开头",
        )
    if by is not None:
        require_role(by, Role.OPERATOR)
    role = _role(role)
    dept = (dept_uscc or "").strip().upper() or None
    if role in DEPARTMENT_ROLES:
        if dept is None:
            raise XinyongError(
                "ACCOUNT_DEPT_REQUIRED", f"{role.label}账号必须指定所属部门（统一社会信用代码）"
            )
        dept = departments.require_active(conn, dept).uscc
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
            must_change_password=change_at_login and password is not None,
            created_at=now_utc(conn, now),
            created_by=created_by,
        )
        .returning(accounts.c.id)
    )
    assert account_id is not None
    account = _account(account_row(conn, accounts.c.id == account_id))
    if by is not None:
        audit.append_for(
            conn,
            by,
            "account.create",
            subject_id=subject_id,
            detail={
                "account_id": account.id,
                "username": account.username,
                "role": account.role.value,
                "dept_uscc": account.dept_uscc,
                "password": password is not None,
            },
        )
    return account


def get_account(conn: Connection, username: str) -> Account:
    return _account(account_row(conn, accounts.c.username == normalise_username(username)))


def list_accounts(
    conn: Connection,
    *,
    include_disabled: bool = True,
    role: Role | str | None = None,
    dept_uscc: str | None = None,
    disabled: bool | None = None,
) -> list[Account]:
    """Accounts by username; ``role``, ``dept_uscc`` and ``disabled`` (True: only disabled
    ones, False: only active ones) narrow the list."""
    stmt = select(accounts).order_by(accounts.c.username)
    if not include_disabled or disabled is False:
        stmt = stmt.where(accounts.c.disabled_at.is_(None))
    if disabled is True:
        stmt = stmt.where(accounts.c.disabled_at.is_not(None))
    if role:
        stmt = stmt.where(accounts.c.role == _role(role).value)
    if dept_uscc:
        stmt = stmt.where(accounts.c.dept_uscc == dept_uscc.strip().upper())
    return [_account(row) for row in conn.execute(stmt)]


def disable_account(
    conn: Connection, username: str, *, by: Principal, now: datetime | None = None
) -> Account:
    """Disable an account: it can no longer log in and its tokens stop working. Accounts are
    never deleted, so that the audit log's actors keep meaning something. Audited as
    ``account.disable`` (also when it was already disabled: the attempt is the event)."""
    require_role(by, Role.OPERATOR)
    account = get_account(conn, username)
    if account.disabled_at is None:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == account.id)
            .values(disabled_at=now_utc(conn, now))
        )
        account = get_account(conn, username)
    _audit_account(conn, by, "account.disable", account)
    return account


def enable_account(conn: Connection, username: str, *, by: Principal) -> Account:
    """Enable a disabled account again (operators only): it may log in, and its tokens not
    revoked nor expired work again. Audited as ``account.enable`` (also when it was already
    enabled: the attempt is the event)."""
    require_role(by, Role.OPERATOR)
    account = get_account(conn, username)
    if account.disabled_at is not None:
        conn.execute(update(accounts).where(accounts.c.id == account.id).values(disabled_at=None))
        account = get_account(conn, username)
    _audit_account(conn, by, "account.enable", account)
    return account


def set_password(
    conn: Connection,
    username: str,
    password: str,
    *,
    by: Principal,
    change_at_login: bool = False,
) -> Account:
    """Set a new password; also clears the username's login back-off (not the addresses'),
    which is how an operator unlocks early. Audited as ``account.password``.
    ``change_at_login``: the holder must replace it at the next login (a password handed over)."""
    require_role(by, Role.OPERATOR)
    account = get_account(conn, username)
    check_password_policy(password, username=account.username)
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account.id)
        .values(password_hash=_hasher.hash(password), must_change_password=change_at_login)
    )
    throttle.clear_account(conn, account.username)
    _audit_account(conn, by, "account.password", account)
    return get_account(conn, username)


def change_own_password(conn: Connection, principal: Principal, current: str, new: str) -> Account:
    """The holder of a logged-in account replaces its password: the current one must be given
    (a session left open on a shared desk must not be enough to take the account over), the new
    one must pass the policy and differ from it. Clears ``must_change_password``. Audited as
    ``account.password.own`` (never the password)."""
    if principal.account_id is None:
        raise XinyongError("LOGIN_REQUIRED", "请先登录")
    row = account_row(conn, accounts.c.id == principal.account_id)
    if row.password_hash is None:
        raise XinyongError(
            "PASSWORD_NOT_USED", "部门系统账号只凭接口令牌访问，不设登录密码；请签发新令牌"
        )
    if not _verify(row.password_hash, current):
        raise XinyongError("PASSWORD_CURRENT_WRONG", "当前密码不正确")
    check_password_policy(new, username=row.username)
    if new == current:
        raise XinyongError("PASSWORD_UNCHANGED", "新密码不能与当前密码相同")
    conn.execute(
        update(accounts)
        .where(accounts.c.id == row.id)
        .values(password_hash=_hasher.hash(new), must_change_password=False)
    )
    account = _account(row)
    audit.append_for(conn, principal, "account.password.own", detail={"account_id": account.id})
    return get_account(conn, account.username)


# A password made for a reset: letters of both cases and digits, without the ones people
# misread on paper (0/O, 1/l/I); 16 of them carry about 94 bits.
_RESET_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RESET_PASSWORD_LENGTH = 16


def reset_password(conn: Connection, username: str, *, by: Principal) -> tuple[Account, str]:
    """Set a new random password (operators only) and return it with the account: shown this
    once to the operator, who hands it to the account's holder, who must replace it at the next
    login; only its hash is stored. An
    account without a password (a department system's, tokens only) is refused. Audited as
    ``account.password`` (never the password)."""
    require_role(by, Role.OPERATOR)
    account = get_account(conn, username)
    if account.role is Role.DEPT_SYSTEM:
        raise XinyongError(
            "PASSWORD_NOT_USED", "部门系统账号只凭接口令牌访问，不设登录密码；请签发新令牌"
        )
    password = new_password()
    changed = set_password(conn, account.username, password, by=by, change_at_login=True)
    return changed, password


def new_password() -> str:
    """A random password that passes the policy, for a new account or a reset."""
    while True:
        password = "".join(secrets.choice(_RESET_ALPHABET) for _ in range(RESET_PASSWORD_LENGTH))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _audit_account(conn: Connection, by: Principal, action: str, account: Account) -> None:
    audit.append_for(
        conn,
        by,
        action,
        subject_id=account.subject_id,
        detail={"account_id": account.id, "username": account.username},
    )


def _role(role: Role | str) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in ACCOUNT_ROLES:
        known = "、".join(f"{r.value}（{r.label}）" for r in ACCOUNT_ROLES)
        raise XinyongError("ROLE_UNKNOWN", f"没有角色“{role}”。可选：{known}") from None
    return parsed


def account_row(conn: Connection, where: Any) -> Row[Any]:
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
        must_change_password=bool(row.must_change_password),
        disabled_at=aware(row.disabled_at),
        created_at=aware(row.created_at) or row.created_at,
        created_by=row.created_by,
    )


def principal_of(row: Row[Any], source: str) -> Principal:
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

    A wrong password and an unknown username give the same ``LOGIN_FAILED`` and cost the same
    Argon2 verification (a decoy hash for unknown names). Failures back off per address, per
    username and address, and per username (``throttle``: the design, and why nobody can keep
    another's account locked); while a back-off binds this client the password is not even
    checked, and the answer ``LOGIN_LOCKED`` is the same for an unknown username, because the
    counters never look at whether the account exists. A disabled account is reported as such
    only to someone who knows its password. Raises ``LoginRefused``; the failure counts are
    written first, so commit after catching it.
    """
    at = now_utc(conn, now)
    name = normalise_username(username)
    address = source or "-"
    waiting = throttle.locked_until(conn, name, address, at)
    if waiting is not None:
        raise _locked(waiting)
    row = conn.execute(select(accounts).where(accounts.c.username == name)).one_or_none()
    if row is None or not _verify(row.password_hash, password):
        if row is None:
            _verify(None, password)
        until = throttle.record_failure(conn, name, address, at)
        if until is not None:
            raise _locked(until)
        raise LoginRefused("LOGIN_FAILED", _LOGIN_FAILED)
    if row.disabled_at is not None:
        raise LoginRefused("ACCOUNT_DISABLED", "该账号已停用，请联系平台管理员")
    throttle.clear_account(conn, name, address)
    if _hasher.check_needs_rehash(row.password_hash):
        # The hashing parameters were raised since this password was set: upgrade it now,
        # the only moment the plain password is at hand.
        conn.execute(
            update(accounts)
            .where(accounts.c.id == row.id)
            .values(password_hash=_hasher.hash(password))
        )
    return principal_of(row, source)


def _locked(until: datetime) -> LoginRefused:
    return LoginRefused(
        "LOGIN_LOCKED",
        f"登录尝试过于频繁，请于 {beijing(until)}（北京时间）之后再试",
    )
