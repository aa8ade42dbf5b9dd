"""Login and logout. A login always starts a new session with a new id (no session
fixation); failures count towards the account's lock and are audit events."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from xinyong.accounts.roles import Role
from xinyong.accounts.service import (
    PASSWORD_MIN_LENGTH,
    LoginRefused,
    authenticate,
    change_own_password,
    get_account,
)
from xinyong.audit import service as audit
from xinyong.errors import XinyongError
from xinyong.web import sessions
from xinyong.web.clients import client_address
from xinyong.web.deps import PASSWORD_PAGE, SESSION_COOKIE, check_csrf, page, require_login
from xinyong.web.render import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…`` (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# Where each role lands after a login that names no page to return to.
HOMES = {Role.CLERK: "/dept", Role.OPERATOR: "/admin", Role.AUDITOR: "/audit", Role.SUBJECT: "/me"}


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    with page(request):
        target = safe_next(next) if next else ""
        return render(request, "login.html", {"next": target, "username": ""})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    # Argon2 and the writes run on a worker thread: a login that waits for SQLite's one writer
    # (a delivery being ingested) must not hold up the event loop and every public read.
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: FormData) -> Response:
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    username = fields.get("username", "")[:64]
    password = fields.get("password", "")[:256]
    target = safe_next(fields.get("next")) if fields.get("next") else ""
    source = client_address(request)
    engine = request.app.state.engine
    settings = request.app.state.settings
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            sessions.end(ctx.conn, old)
    # Authenticate in a transaction of its own that commits even when the login is refused:
    # the failure count is what throttles guessing.
    with engine.begin() as conn:
        try:
            principal = authenticate(conn, username, password, source=source)
        except LoginRefused as refused:
            audit.append(
                conn,
                actor=username.lower() or "-",
                role="public",
                action="account.login",
                outcome="denied",
                source=source,
                detail={"code": refused.code},
            )
            error = refused.message
        else:
            session_id, _ = sessions.start(conn, principal, hours=settings.session_hours)
            audit.append_for(conn, principal, "account.login", subject_id=principal.subject_id)
            home = target or HOMES.get(principal.role, "/")
            if get_account(conn, principal.name).must_change_password:
                # a password an operator made: the holder chooses their own first
                home = f"{PASSWORD_PAGE}?next=" + quote(home, safe="/")
            response = RedirectResponse(home, status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                session_id,
                httponly=True,
                samesite="strict",
                secure=settings.production,
                max_age=settings.session_hours * 3600,
            )
            return response
    with page(request):
        return render(
            request,
            "login.html",
            {"next": target, "username": username, "error": error},
            status_code=401,
        )


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    token = form.get("csrf_token")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and ctx.session is not None:
            sessions.end(ctx.conn, cookie)
            audit.append_for(ctx.conn, ctx.principal, "account.logout")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- the holder's own password (修改密码) ------------------------------------------------------


@router.get(PASSWORD_PAGE)
def password_form(request: Request, next: str = "") -> Response:
    with page(request) as ctx:
        require_login(ctx)
        forced = ctx.session is not None and ctx.session.must_change_password
        return _password_page(request, forced, next)


@router.post(PASSWORD_PAGE)
async def password_change(request: Request) -> Response:
    form = await request.form()
    # Argon2 twice (the current password, the new hash) on a worker thread, as at login
    return await run_in_threadpool(_password_change, request, form)


def _password_change(request: Request, form: FormData) -> Response:
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    current = fields.get("current", "")[:256]
    new, again = fields.get("new", "")[:256], fields.get("again", "")[:256]
    target = safe_next(fields.get("next")) if fields.get("next") else ""
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        principal = require_login(ctx)
        forced = ctx.session is not None and ctx.session.must_change_password
        try:
            if new != again:
                raise XinyongError("PASSWORD_MISMATCH", "两次输入的新密码不一致")
            change_own_password(ctx.conn, principal, current, new)
        except XinyongError as refused:
            error = refused
        else:
            cookie = request.cookies.get(SESSION_COOKIE)
            ended = 0
            if cookie and principal.account_id is not None:
                ended = sessions.end_others(ctx.conn, principal.account_id, keep=cookie)
            home = target or HOMES.get(principal.role, "/")
            return render(
                request, "account_password.html", {"done": True, "next": home, "ended": ended}
            )
    # the refusal is answered after the transaction: nothing was changed
    with page(request):
        return _password_page(request, forced, target, error=error, status_code=400)


def _password_page(
    request: Request,
    forced: bool,
    target: str,
    *,
    error: XinyongError | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account_password.html",
        {
            "forced": forced,
            "next": safe_next(target) if target else "",
            "error": error,
            "min_length": PASSWORD_MIN_LENGTH,
        },
        status_code=status_code,
    )
