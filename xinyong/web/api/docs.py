"""The API's documentation page, served whole from the installation: Swagger UI's files come
from the ``swagger-ui-py`` package (Apache-2.0; only its two built files are served, with its
licence), the page and its start-up script from ours. Government networks are often offline,
so nothing is fetched from a CDN; the page's own script is a file, as the CSP allows no inline
script."""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from xinyong.errors import NotFound

router = APIRouter(include_in_schema=False)

SWAGGER_STATIC = Path(swagger_ui.__file__).parent / "static"
# The files the page loads, and the licence they come under; nothing else of the package.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
}

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 接口文档</title>
<link rel="stylesheet" href="{base}/docs/assets/swagger-ui.css">
</head>
<body>
<noscript>接口文档需要启用 JavaScript；
也可直接读取 <a href="{base}/openapi.json">openapi.json</a>。</noscript>
<div id="swagger-ui" data-spec="{base}/openapi.json"></div>
<script src="{base}/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    base = request.scope.get("root_path", "") + "/api/v1"
    return HTMLResponse(PAGE.format(title=request.app.title, base=base))


@router.get("/docs/assets/{name}")
def asset(name: str) -> FileResponse:
    media = ASSETS.get(name)
    if media is None:
        raise NotFound("NOT_FOUND", "页面或接口不存在")
    return FileResponse(
        SWAGGER_STATIC / name,
        media_type=media,
        headers={"Cache-Control": "public, max-age=86400"},
    )
