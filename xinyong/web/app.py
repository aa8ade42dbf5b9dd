"""The web application: the public portal (信用濮阳), the JSON API under ``/api/v1`` and the
pages of clerks, subjects, operators and auditors, over the same services as the command line.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.db import make_engine, schema_is_current
from xinyong.departments.service import seed_database
from xinyong.disclosure.state_rules import state_rules
from xinyong.errors import XinyongError
from xinyong.ingest.worker import DeliveryWorker
from xinyong.settings import DEFAULT_SECRET, Settings, get_settings
from xinyong.web import errors
from xinyong.web.deps import ANON_COOKIE
from xinyong.web.limits import RequestGate
from xinyong.web.logs import install_redaction
from xinyong.web.ratelimit import RateLimiter

API_PREFIX = "/api/v1"

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
}


class SecurityHeaders:
    """The security headers on every answer (a header the route set itself is kept) and the
    anonymous cookie that anchors the CSRF token of forms shown before login
    (``request.state.anon_id``; not set on the API, whose callers send no forms).

    A plain ASGI middleware: as Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) it
    ran every request in a task group of its own with memory streams for the answer's body,
    a cost every request paid, ``/health`` included (bench/check.py profile). Here it only
    adds headers to the answer's start as it passes; the body goes through untouched, so
    streamed and file answers are sent as the route sends them.
    """

    def __init__(self, app: ASGIApp, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        anon = HTTPConnection(scope).cookies.get(ANON_COOKIE)
        kept = anon if anon and len(anon) <= 64 else None
        anon_id = kept or secrets.token_urlsafe(24)
        # what ``request.state`` of the routes reads
        scope.setdefault("state", {})["anon_id"] = anon_id
        cookie = (
            _anon_cookie(anon_id, self.production)
            if kept is None and not scope["path"].startswith("/api/")
            else None
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)  # the message's own list, in place
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if cookie is not None:
                    headers.raw.append((b"set-cookie", cookie))
            await send(message)

        await self.app(scope, receive, with_headers)


def _anon_cookie(value: str, secure: bool) -> bytes:
    """The ``Set-Cookie`` value of the anonymous cookie, as Starlette's ``set_cookie`` writes
    it."""
    holder = Response()
    holder.set_cookie(ANON_COOKIE, value, httponly=True, samesite="lax", secure=secure)
    return holder.raw_headers[-1][1]


def check_production(settings: Settings) -> None:
    """Production refuses to start with the development secret or a short one."""
    if settings.production and (
        settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 32
    ):
        raise XinyongError(
            "SECRET_KEY_DEFAULT",
            "生产模式（XINYONG_ENV=production）下必须设置至少 32 个字符的 XINYONG_SECRET_KEY",
        )


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    catalog: Catalog | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    check_production(settings)
    worker_box: list[DeliveryWorker] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Jobs survive a restart as rows: fail the ones a dead process left running, drain
        # the queued ones; at shutdown, let a running delivery finish (bounded).
        worker_box[0].start()
        yield
        worker_box[0].join(timeout_s=60)

    app = FastAPI(
        lifespan=lifespan,
        title="信用平台 xinyong 接口",
        version="1",
        description="信用濮阳公共信用信息查询、部门报送与联合奖惩核查接口",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from the package by xinyong.web.api.docs (no CDN)
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings)
    if not schema_is_current(app.state.engine):
        raise XinyongError(
            "DB_SCHEMA_OUTDATED", "数据库表结构不是最新版本，请先运行 xinyong db upgrade"
        )
    app.state.catalog = catalog or load_catalog(settings.catalog_dir)
    # the state rules are part of the catalogue: a broken file stops the start, naming itself
    state_rules(app.state.catalog.root)
    # A department new in the catalogue reaches the database; stored ones are never changed.
    seed_database(app.state.engine, app.state.catalog)
    app.state.limiter = RateLimiter()
    app.state.worker = DeliveryWorker(
        app.state.engine,
        app.state.catalog,
        chunk_rows=settings.ingest_chunk_rows,
        external=settings.delivery_worker == "process",
    )
    worker_box.append(app.state.worker)
    errors.install(app)
    install_redaction()  # the access log never holds a query string's values (ID numbers)
    # Inside the header middleware (added after it, so outer): its refusals carry the
    # security headers too.
    app.add_middleware(RequestGate, settings=settings, engine=app.state.engine)

    app.add_middleware(SecurityHeaders, production=settings.production)

    from xinyong.web.api import contract
    from xinyong.web.api import router as api_router
    from xinyong.web.pages import router as pages_router

    app.include_router(api_router, prefix=API_PREFIX)
    contract.install(app)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
