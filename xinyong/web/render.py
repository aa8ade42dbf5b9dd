"""Server-rendered pages (Jinja2, autoescaped). Every page gets the principal, its CSRF token
and the navigation; nothing a template shows is decided in the template (the services and the
disclosure engine decide)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from xinyong.accounts.roles import Principal, Role
from xinyong.clock import beijing
from xinyong.web.clients import client_address
from xinyong.web.present import day

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _bj(value: Any) -> str:
    """A stored UTC time as people in Puyang read it; dates and text unchanged."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return beijing(value)[:16]
    return str(value)


TEMPLATES.env.filters["bj"] = _bj
TEMPLATES.env.filters["day"] = day


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    from xinyong.web.deps import csrf_token_for

    principal: Principal = getattr(request.state, "principal", None) or Principal.public(
        client_address(request)
    )
    session = getattr(request.state, "session", None)
    base = {
        "request": request,
        "principal": principal,
        "logged_in": principal.role is not Role.PUBLIC,
        "csrf_token": csrf_token_for(request, session),
        "Role": Role,
    }
    return TEMPLATES.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code, headers=headers
    )
