"""`xinyong serve [--host] [--port]`: the portal, the JSON API and the users' pages in one
process (uvicorn), on the database of DATABASE_URL (a SQLite file is brought up to date).
`xinyong worker`: the delivery worker in a process of its own (``ingest/worker.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

from xinyong.cli.context import catalog, engine, fail, out, settings
from xinyong.errors import XinyongError
from xinyong.ingest.worker import DeliveryWorker


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


def worker_command(
    once: Annotated[bool, typer.Option("--once", help="处理完队列中的报送后退出")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, help="队列为空时的轮询间隔（秒）")
    ] = 1.0,
) -> None:
    """运行报送入库进程：逐一处理网上报送排队的批次（配合 XINYONG_DELIVERY_WORKER=process，入库不再占用门户网站进程的计算时间）。"""  # noqa: E501
    current = settings()
    worker = DeliveryWorker(engine(), catalog(), chunk_rows=current.ingest_chunk_rows)
    if current.delivery_worker != "process":
        out.print(
            "提示：XINYONG_DELIVERY_WORKER 不是 process，门户网站进程也会自行入库",
            highlight=False,
        )
    out.print("报送入库进程已启动（按 Ctrl+C 停止）", highlight=False)
    try:
        worker.serve(interval_s=interval, once=once)
    except KeyboardInterrupt:
        out.print("报送入库进程已停止", highlight=False)
