"""Opening a self-service account (信用主体注册): a person or a company's legal
representative, verified by the identity interface, gets an account for its own file."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts.identity import (
    DevelopmentVerifier,
    IdentityClaim,
    Kind,
    audit_refused_registration,
    register_subject,
    verifier_for,
)
from xinyong.codes import normalize_code
from xinyong.errors import XinyongError
from xinyong.web.clients import client_address
from xinyong.web.deps import check_csrf, page
from xinyong.web.render import render

router = APIRouter()


@router.get("/register")
def register_form(request: Request) -> Response:
    with page(request):
        return render(request, "register.html", {"fields": {}, **_verifier_note(request)})


def _verifier_note(request: Request) -> dict[str, str]:
    """The development verifier is named on the page: nobody should take it for a real check."""
    settings = request.app.state.settings
    if settings.production:
        return {}
    return {"development_verifier": DevelopmentVerifier.label}


@router.post("/register")
async def register(request: Request) -> Response:
    form = await request.form()
    fields = {k: v.strip()[:256] for k, v in form.items() if isinstance(v, str)}
    kind: Kind = "organisation" if fields.get("kind") == "organisation" else "person"
    claim = IdentityClaim(
        kind=kind,
        code=fields.get("code", ""),
        name=fields.get("name", ""),
        representative=fields.get("representative", ""),
    )
    source = client_address(request)
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    # the code's hash, not the code, is the limiter's key: memory holds no ID numbers
    code_key = hashlib.sha256(normalize_code(claim.code).encode()).hexdigest()
    try:
        limiter.hit("register", source, settings.rate_limit_register_per_minute)
        limiter.hit("register_code", code_key, settings.rate_limit_register_code_per_minute)
        with page(request, write=True) as ctx:
            check_csrf(ctx, fields.get("csrf_token"))
            verifier = verifier_for(ctx.settings)
            register_subject(
                ctx.conn,
                ctx.catalog,
                verifier,
                claim=claim,
                username=fields.get("username", ""),
                password=fields.get("password", ""),
                source=source,
            )
    except XinyongError as exc:
        # every failed attempt is an event, rate-limited ones included (after the rollback)
        audit_refused_registration(request.app.state.engine, claim, exc, source=source)
        raise
    return RedirectResponse("/login?next=/me", status_code=303)
