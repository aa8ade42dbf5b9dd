"""Per-request context: one transaction, the acting principal, settings and catalogue.

The API knows two callers: a department system with its token (``Authorization: Bearer``)
and the anonymous public. Pages know a logged-in account (session cookie) and the public.
Keeping cookies off the API means no API call can be forged from another site (no CSRF there).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request
from sqlalchemy import Connection, Engine

from xinyong.accounts.roles import Principal, Role
from xinyong.accounts.tokens import principal_for_token
from xinyong.catalog.loader import Catalog
from xinyong.clock import Clock
from xinyong.db import read_only
from xinyong.errors import NotAllowed, XinyongError
from xinyong.settings import Settings
from xinyong.web import sessions
from xinyong.web.clients import client_address
from xinyong.web.sessions import Session

SESSION_COOKIE = "xinyong_session"
ANON_COOKIE = "xinyong_anon"  # anchors the CSRF token of forms shown before login


@dataclass
class Ctx:
    request: Request
    conn: Connection
    principal: Principal
    session: Session | None

    @property
    def settings(self) -> Settings:
        settings: Settings = self.request.app.state.settings
        return settings

    @property
    def catalog(self) -> Catalog:
        catalog: Catalog = self.request.app.state.catalog
        return catalog

    @property
    def engine(self) -> Engine:
        engine: Engine = self.request.app.state.engine
        return engine

    def csrf_token(self) -> str:
        return csrf_token_for(self.request, self.session)


def app_clock(request: Request) -> Clock:
    """The clock of the application's settings, for work done outside a transaction."""
    clock: Clock = request.app.state.settings.clock
    return clock


def csrf_token_for(request: Request, session: Session | None) -> str:
    if session is not None:
        return session.csrf_token
    anchor = request.state.anon_id
    secret = request.app.state.settings.secret_key.encode()
    return hmac.new(secret, f"csrf:{anchor}".encode(), hashlib.sha256).hexdigest()


@contextmanager
def _transaction(request: Request, write: bool) -> Iterator[Connection]:
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        if not write:
            read_only(conn)
        with conn.begin():
            yield conn


def token_principal(request: Request, conn: Connection, *, record_use: bool = True) -> Principal:
    """The API caller: the public without a header, else the token's principal (the one place
    a bearer header is read; the request gate in `limits.py` asks it too)."""
    source = client_address(request)
    header = request.headers.get("authorization", "")
    if not header:
        return Principal.public(source)
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise XinyongError("TOKEN_INVALID", "Authorization 请求头应为 “Bearer 令牌”")
    return principal_for_token(conn, secret.strip(), source=source, record_use=record_use)


@contextmanager
def api(request: Request, *, write: bool = False, lock_free: bool = False) -> Iterator[Ctx]:
    """One API request's transaction and principal (a department system's token, or the
    public). A token is checked on a writing transaction (it records its last use); an
    anonymous read takes no write lock. ``lock_free``: a read that audits nothing (polling a
    delivery job) takes no write lock even with a token, so that it answers while a delivery
    holds SQLite's one writer. An exception rolls everything back before the error handlers
    answer (and audit a refusal)."""
    write = not lock_free and (write or bool(request.headers.get("authorization")))
    with _transaction(request, write) as conn:
        principal = token_principal(request, conn, record_use=write)
        request.state.principal = principal
        yield Ctx(request, conn, principal, None)


class PasswordChangeRequired(NotAllowed):
    """A session whose password an operator set asked for anything but changing it."""


PASSWORD_PAGE = "/account/password"
# what a session that must change its password may still reach
PASSWORD_FREE = frozenset({PASSWORD_PAGE, "/logout", "/login"})


@contextmanager
def page(request: Request, *, write: bool = False, lock_free: bool = False) -> Iterator[Ctx]:
    """One page request's transaction and principal (the session's account, or the public).
    Logged-in users write: their reads of non-public data are audit events. ``lock_free``: a
    page that only reads and audits nothing (a delivery job's progress) takes no write lock."""
    cookie = request.cookies.get(SESSION_COOKIE)
    write = not lock_free and (write or bool(cookie))
    with _transaction(request, write) as conn:
        source = client_address(request)
        session = sessions.lookup(conn, cookie, source=source) if cookie else None
        if session and session.must_change_password and request.url.path not in PASSWORD_FREE:
            raise PasswordChangeRequired(
                "PASSWORD_CHANGE_REQUIRED",
                "请先修改密码：当前密码由平台管理员设置，须改为只有您本人知道的密码后才能继续使用",
            )
        principal = session.principal if session else Principal.public(source)
        request.state.principal = principal
        request.state.session = session
        yield Ctx(request, conn, principal, session)


CSRF_HEADER = "X-CSRF-Token"


@contextmanager
def api_or_session(request: Request, *, write: bool = False) -> Iterator[Ctx]:
    """An API request from a department system (its token) or from a logged-in user's browser
    session (the cookie: subjects have no tokens). A write on a session must carry the
    session's CSRF token in ``X-CSRF-Token``, so that another site cannot post for it."""
    if request.headers.get("authorization") or not request.cookies.get(SESSION_COOKIE):
        with api(request, write=write) as ctx:
            yield ctx
    else:
        with page(request, write=write) as ctx:
            if write:
                check_csrf(ctx, request.headers.get(CSRF_HEADER))
            yield ctx


def check_csrf(ctx: Ctx, sent: str | None) -> None:
    """Every form posts the token of its session (or, before login, of the anonymous cookie);
    a page of another site cannot know it."""
    sent = sent or ""
    if not sent or not hmac.compare_digest(sent, ctx.csrf_token()):
        raise NotAllowed("CSRF_FAILED", "页面已过期或来源不明，请刷新页面后重新提交")


def require_login(ctx: Ctx, *roles: Role) -> Principal:
    """The logged-in principal, when it has one of ``roles`` (any role when none given)."""
    if ctx.principal.role is Role.PUBLIC:
        raise XinyongError("LOGIN_REQUIRED", "请先登录")
    if roles and ctx.principal.role not in roles:
        raise NotAllowed("ROLE_NOT_ALLOWED", "当前账号无权使用此功能")
    return ctx.principal


# A row id: a positive integer that a JSON client carries exactly (at most 2**53 - 1, inside
# both databases' 64-bit ids); a larger number is a 422, not an overflow.
MAX_ID = 2**53 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="编号")]
# A department's 统一社会信用代码 as a parameter: the form is checked, not the check digit. Used
# with max_length=18 instead of a closing "$", which Python's regex (and so test generators) lets
# match before a trailing newline while the validator does not.
DEPT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"
