"""Refuse before working (issue 11): the request gate in front of every route.

Two checks run before a route reads its body:

- **Size per route.** Each route has a cap on its request body (``Settings.max_*``): a
  ``Content-Length`` over it is answered 413 at once, and a body sent without one (chunked)
  is counted as it is read and refused the moment it passes the cap, so no route ever
  spools more than its cap. FastAPI would otherwise read a whole multipart body into
  temporary files (and a JSON body into memory) before the route runs.
- **A token before an API write.** An API write that needs a department system's token and
  comes without a valid one is answered 401 before its body is read. The token is resolved by
  the same function the routes use (``deps.token_principal``); the gate only decides earlier,
  the route still decides who may do what with the principal it resolves itself.

Answers are the application's usual error answers (``errors.error_response``): JSON
``{"error": {"code", "message"}}`` under ``/api/``, the error page elsewhere.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import anyio
from fastapi import Request
from sqlalchemy import Engine
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.accounts.roles import Role
from xinyong.db import read_only
from xinyong.errors import XinyongError
from xinyong.settings import Settings
from xinyong.web.deps import token_principal
from xinyong.web.errors import error_response

_MIB = 1 << 20
# Room for a multipart body's boundaries and its small form fields beside the file itself.
_FORM_SLACK = 64 * 1024
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# API writes open to the public (a public credit report); every other API write needs a token.
_PUBLIC_API_WRITES = frozenset({"/api/v1/reports"})
# Case writes come from department systems (token) and from subjects, who have no tokens: their
# logged-in session with its CSRF token in a header, checked by the route (``api_or_session``).
_SESSION_API_WRITES = "/api/v1/cases"


@dataclass(frozen=True)
class BodyCap:
    limit: int
    what: str  # what the body is, in Chinese, for the refusal message


def body_cap(settings: Settings, method: str, path: str) -> BodyCap:
    """The largest body a route accepts (a route not named here takes JSON or a small form)."""
    if method == "POST":
        if path in ("/api/v1/batches", "/dept/batches"):
            return BodyCap(settings.max_delivery_bytes + _FORM_SLACK, "报送文件")
        if path == "/api/v1/checks/bulk":
            return BodyCap(settings.max_bulk_check_bytes + _FORM_SLACK, "批量核查清单")
        if path == "/verify":
            return BodyCap(settings.max_evidence_upload_bytes + _FORM_SLACK, "信用报告文件")
        if path in (
            "/me/objections",
            "/me/repair",
            "/complaints",
            "/dept/authorisations",
            "/dept/objections",
        ) or path.startswith(("/dept/cases/", "/me/cases/", "/api/v1/cases")):
            return BodyCap(settings.max_evidence_upload_bytes + _FORM_SLACK, "证明材料")
    return BodyCap(settings.max_body_bytes, "请求内容")


def needs_token(method: str, path: str) -> bool:
    return (
        method in _WRITES
        and path.startswith("/api/")
        and path not in _PUBLIC_API_WRITES
        and not (path == _SESSION_API_WRITES or path.startswith(_SESSION_API_WRITES + "/"))
    )


# A department system sends request after request with one token, and resolving it in a
# transaction of its own before each write (a thread hop, a connection, a read) cost a 联合奖惩
# check a tenth of its time (bench/check.py). So a token the gate found valid passes the gate
# without another look for a few seconds. Only the early refusal leans on this: every route
# still resolves the token in its own transaction, so a token revoked or expired within those
# seconds is refused all the same, by the route, after its body is read (at most its cap).
PASSED_TTL_S = 5.0
PASSED_MAX = 1024


def _key(header: str) -> bytes:
    # the digest, not the secret, is what stays in memory
    return hashlib.sha256(header.encode("latin-1")).digest()


class BodyTooLarge(Exception):
    """Raised into whatever reads the body once it passes its cap."""


def _too_large(cap: BodyCap) -> XinyongError:
    size = f"{cap.limit / _MIB:.0f} MB" if cap.limit >= _MIB else f"{cap.limit // 1024} KB"
    return XinyongError("BODY_TOO_LARGE", f"{cap.what}过大：此处最多 {size}，请拆分后再提交")


class RequestGate:
    """A pure ASGI middleware (no body buffering of its own)."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        # Authorization headers whose token the gate found valid, by their SHA-256, with the
        # monotonic time until which they pass without another look (see ``PASSED_TTL_S``).
        self._passed: dict[bytes, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        cap = body_cap(self.settings, method, path)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap.limit):
            await _answer(scope, receive, send, 413, _too_large(cap))
            return
        if needs_token(method, path) and not self._recently_passed(scope):
            refusal = await anyio.to_thread.run_sync(self._token_refusal, Request(scope))
            if refusal is not None:
                await _answer(scope, receive, send, 401, refusal)
                return

        received = 0
        tripped = False
        started = False
        replaced = False

        async def counted() -> Message:
            nonlocal received, tripped
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.limit:
                    tripped = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                if tripped and not started:
                    # whatever the route made of a cut body (a parse error, a 400), the
                    # answer is that it was too large
                    replaced = True
                    started = True
                    await _answer(scope, receive, send, 413, _too_large(cap))
                    return
                started = True
            if replaced:
                return
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except BodyTooLarge:
            if started:
                raise
            await _answer(scope, receive, send, 413, _too_large(cap))
        except Exception:
            if not tripped or started:
                raise
            await _answer(scope, receive, send, 413, _too_large(cap))

    def _recently_passed(self, scope: Scope) -> bool:
        """Whether this Authorization header passed the gate less than ``PASSED_TTL_S`` ago."""
        header = Headers(scope=scope).get("authorization")
        if not header:
            return False
        until = self._passed.get(_key(header))
        return until is not None and time.monotonic() < until

    def _token_refusal(self, request: Request) -> XinyongError | None:
        """Why an API write is refused before its body is read, or None to let it through."""
        if not request.headers.get("authorization"):
            return XinyongError(
                "TOKEN_REQUIRED", "此接口需要部门系统的接口令牌（Authorization: Bearer 令牌）"
            )
        try:
            # Read-only and recording nothing: the gate must not wait for SQLite's one writer
            # (a delivery being ingested); the route itself records the token's use.
            with self.engine.connect() as conn:
                read_only(conn)
                with conn.begin():
                    principal = token_principal(request, conn, record_use=False)
        except XinyongError as exc:
            return exc
        if principal.role is Role.PUBLIC:  # pragma: no cover - a header always names a token
            return XinyongError("TOKEN_REQUIRED", "此接口需要部门系统的接口令牌")
        if len(self._passed) >= PASSED_MAX:  # bounded: tokens are few, headers need not be
            self._passed.clear()
        self._passed[_key(request.headers["authorization"])] = time.monotonic() + PASSED_TTL_S
        return None


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, error: XinyongError
) -> None:
    response = error_response(Request(scope, receive), status, error.code, error.message)
    if status == 413:
        # the client may still be sending: do not keep the connection for the rest of it
        response.headers["Connection"] = "close"
    await response(scope, receive, send)
