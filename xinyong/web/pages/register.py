"""Opening a self-service account (信用主体注册): a person or a company's legal
representative, verified by the identity interface, gets an account for its own file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from xinyong.accounts.identity import IdentityClaim, Kind, register_subject, verifier_for
from xinyong.web.deps import check_csrf, client_address, page
from xinyong.web.render import render

router = APIRouter()


@router.get("/register")
def register_form(request: Request) -> Response:
    with page(request):
        return render(request, "register.html", {"fields": {}})


@router.post("/register")
async def register(request: Request) -> Response:
    form = await request.form()
    fields = {k: v.strip()[:256] for k, v in form.items() if isinstance(v, str)}
    kind: Kind = "organisation" if fields.get("kind") == "organisation" else "person"
    with page(request, write=True) as ctx:
        check_csrf(ctx, fields.get("csrf_token"))
        verifier = verifier_for(ctx.settings)
        claim = IdentityClaim(
            kind=kind,
            code=fields.get("code", ""),
            name=fields.get("name", ""),
            representative=fields.get("representative", ""),
        )
        register_subject(
            ctx.conn,
            ctx.catalog,
            verifier,
            claim=claim,
            username=fields.get("username", ""),
            password=fields.get("password", ""),
            source=client_address(request),
        )
    return RedirectResponse("/login?next=/me", status_code=303)
