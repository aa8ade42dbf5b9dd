"""Domain errors to HTTP answers: JSON ``{"error": {"code", "message"}}`` under ``/api/``, an
error page elsewhere; never a stack trace. Refusals are audited even though the request's own
transaction rolls back."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Match

from xinyong.audit import service as audit
from xinyong.db import is_busy
from xinyong.errors import Busy, Conflict, FileRefused, NotAllowed, NotFound, XinyongError
from xinyong.web.deps import PASSWORD_PAGE, PasswordChangeRequired
from xinyong.web.ratelimit import RateLimited
from xinyong.web.validation import problem, summary

log = logging.getLogger("xinyong.web")

_STATUS: list[tuple[type[XinyongError], int]] = [
    (Busy, 503),
    (RateLimited, 429),
    (NotFound, 404),
    (NotAllowed, 403),
    (Conflict, 409),
    (FileRefused, 422),
]

_HTTP_CODES = {
    404: ("NOT_FOUND", "页面或接口不存在"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    401: ("LOGIN_REQUIRED", "请先登录"),
}


def status_of(error: XinyongError) -> int:
    if error.code in ("TOKEN_INVALID", "LOGIN_REQUIRED"):
        return 401
    return next((s for cls, s in _STATUS if isinstance(error, cls)), 400)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request, status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> Response:
    headers: dict[str, str] = {}
    if status == 401 and wants_json(request):
        headers["WWW-Authenticate"] = 'Bearer realm="xinyong"'
    if wants_json(request):
        body: dict[str, Any] = {"code": code, "message": message, **(extra or {})}
        return JSONResponse({"error": body}, status_code=status, headers=headers)
    from xinyong.web.render import render  # the page renderer needs the app's templates

    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message},
        status_code=status,
        headers=headers,
    )


def _page_to_log_in(request: Request) -> bool:
    """A page read without a session goes to the login form (and comes back after it); the
    API answers 401, and a posted form is not replayed (its session and token are gone)."""
    return not wants_json(request) and request.method in ("GET", "HEAD")


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")


def allowed_methods(app: FastAPI, request: Request) -> str:
    """The ``Allow`` header of a 405: every method some route takes on this path. Starlette's
    own names only the first route that matched the path, while a path such as
    ``/api/v1/batches`` is two routes (GET and POST)."""
    methods = [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]
    if "GET" in methods:
        methods.insert(1, "HEAD")
    return ", ".join(methods)


def _audit_refusal(request: Request, error: XinyongError) -> None:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return
    audit_fields = getattr(error, "audit_fields", None)
    if callable(audit_fields):  # a missing 授权查询 authorisation names subject and purpose
        try:
            audit.append_independently(request.app.state.engine, **audit_fields())
        except Exception:
            log.exception("could not audit a refusal")
        return
    try:
        audit.append_for_independently(
            request.app.state.engine,
            principal,
            action="access.denied",
            outcome="denied",
            detail={"method": request.method, "path": request.url.path, "code": error.code},
        )
    except Exception:  # the refusal must still be answered
        log.exception("could not audit a refusal")


def install(app: FastAPI) -> None:
    @app.exception_handler(XinyongError)
    async def domain_error(request: Request, exc: XinyongError) -> Response:
        if isinstance(exc, PasswordChangeRequired) and _page_to_log_in(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"{PASSWORD_PAGE}?next=" + quote(target, safe="/"), status_code=303
            )
        status = status_of(exc)
        if status == 403 or callable(getattr(exc, "audit_fields", None)):
            # refusals, and other errors a service marked for the audit log (cases)
            # on a worker thread: the append may wait for SQLite's one writer
            await run_in_threadpool(_audit_refusal, request, exc)
            principal = getattr(request.state, "principal", None)
            if (
                principal is not None
                and principal.role.value == "public"
                and exc.code != "CSRF_FAILED"
            ):
                status = 401  # not refused for who they are: nobody logged in
        if status == 401 and _page_to_log_in(request):
            return RedirectResponse(login_url(request), status_code=303)
        response = error_response(request, status, exc.code, exc.message)
        if isinstance(exc, RateLimited | Busy):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(OperationalError)
    async def database_error(request: Request, exc: OperationalError) -> Response:
        # A writer that waited its bounded time for the lock (a delivery holds SQLite's one
        # writer): nothing changed, try again; never a 500.
        if is_busy(exc):
            busy = Busy()
            response = error_response(request, 503, busy.code, busy.message)
            response.headers["Retry-After"] = str(busy.retry_after)
            return response
        return await unexpected(request, exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # Chinese reasons with stable codes, each problem keeping its place and field path
        problems = [problem(e) for e in exc.errors()]
        return error_response(
            request, 422, "REQUEST_INVALID", summary(problems), {"problems": problems}
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code, message = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "请求无法处理"))
        if isinstance(exc.detail, dict):
            code, message = exc.detail.get("code", code), exc.detail.get("message", message)
        response = error_response(request, exc.status_code, code, message)
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(app, request)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error, incident %s", incident)
        return error_response(
            request, 500, "INTERNAL_ERROR", f"服务器内部错误，请稍后再试（事件编号 {incident}）"
        )
