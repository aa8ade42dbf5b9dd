"""The reconciliation endpoint (W3C Reconciliation Service API 0.2) for OpenRefine and the
like: ``GET /reconcile`` is the manifest, ``GET|POST /reconcile?queries=…`` answers a batch,
``/reconcile/preview?id=`` shows one subject, ``/reconcile/suggest/{entity,property,type}``
complete what a clerk types. Anyone may call it (OpenRefine sends no token); natural persons
are never candidates, and every batch counts against the search rate limit."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape

from xinyong.errors import XinyongError
from xinyong.reconcile import service
from xinyong.web.deps import page
from xinyong.web.pages.public import _limit

router = APIRouter()

# the manifest and answers are read cross-origin by OpenRefine's browser front end
_CORS = {"Access-Control-Allow-Origin": "*"}


def _json(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers=_CORS)


def _error(exc: XinyongError, status: int = 400) -> JSONResponse:
    return _json({"error": {"code": exc.code, "message": exc.message}}, status)


def _base(request: Request) -> str:
    return str(request.app.state.settings.public_base_url)


def _answer(request: Request, queries: str | None) -> Response:
    if queries is None:
        return _json(service.manifest(_base(request)))
    try:
        _limit(request, "search")
        try:
            batch = json.loads(queries)
        except json.JSONDecodeError:
            raise XinyongError(
                "RECONCILE_QUERY_INVALID", "对账查询格式有误：queries 不是合法的 JSON"
            ) from None
        with page(request) as ctx:
            return _json(service.reconcile(ctx.conn, batch))
    except XinyongError as exc:
        return _error(exc, 429 if exc.code == "RATE_LIMITED" else 400)


@router.get("/reconcile")
def reconcile_get(
    request: Request, queries: Annotated[str | None, Query(max_length=200_000)] = None
) -> Response:
    return _answer(request, queries)


@router.post("/reconcile")
async def reconcile_post(request: Request) -> Response:
    form = await request.form()
    raw = form.get("queries")
    return _answer(request, raw if isinstance(raw, str) else None)


@router.get("/reconcile/preview")
def preview(request: Request, id: Annotated[str, Query(max_length=20)]) -> Response:
    try:
        with page(request) as ctx:
            s = service.preview(ctx.conn, id)
    except XinyongError as exc:
        body = f"<main><h1>主体预览</h1><p>{escape(exc.message)}</p></main>"
        return HTMLResponse(_document("主体预览", body), status_code=404, headers=_CORS)
    formers = "、".join(s["former_names"]) or "无"
    body = (
        '<main style="font:14px sans-serif;padding:6px">'
        f'<h1 style="font-size:14px;margin:0">{escape(s["name"])}</h1>'
        f"{escape(s['category'])} · 统一社会信用代码 {escape(s['uscc'] or '无')}<br>"
        f"曾用名：{escape(formers)}</main>"
    )
    return HTMLResponse(_document(f"{s['name']} · 主体预览", body), headers=_CORS)


def _document(title: str, body: str) -> str:
    """A whole page (language and title, for screen readers), small enough for OpenRefine's
    preview frame."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )


@router.get("/reconcile/suggest/entity")
def suggest_entity(request: Request, prefix: Annotated[str, Query(max_length=50)] = "") -> Response:
    try:
        _limit(request, "search")
    except XinyongError as exc:
        return _error(exc, 429)
    with page(request) as ctx:
        return _json(service.suggest_entities(ctx.conn, prefix))


@router.get("/reconcile/suggest/property")
def suggest_property(prefix: Annotated[str, Query(max_length=50)] = "") -> Response:
    return _json(service.suggest_properties(prefix))


@router.get("/reconcile/suggest/type")
def suggest_type(prefix: Annotated[str, Query(max_length=50)] = "") -> Response:
    return _json(service.suggest_types(prefix))
