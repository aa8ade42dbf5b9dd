"""`xinyong serve [--host] [--port]`: the portal, the JSON API and the users' pages in one
process (uvicorn), on the database of DATABASE_URL (a SQLite file is brought up to date)."""

from __future__ import annotations

from typing import Annotated

import typer

from xinyong.cli.context import catalog, engine, fail, out, settings
from xinyong.errors import XinyongError


def serve_command(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口", min=1, max=65535)] = 8000,
) -> None:
    """启动信用濮阳门户网站和 /api/v1 接口（按 Ctrl+C 停止）。"""
    import uvicorn

    from xinyong.web.app import create_app

    try:
        app = create_app(settings(), engine=engine(), catalog=catalog())
    except XinyongError as exc:
        fail(exc, status=1)
    out.print(f"信用濮阳已启动：http://{host}:{port}/ （接口文档 /api/v1/docs，按 Ctrl+C 停止）")
    # one process: the rate limiter and the anonymous CSRF anchor live in it (ratelimit.py)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
