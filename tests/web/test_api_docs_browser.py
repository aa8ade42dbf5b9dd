"""The API documentation renders in Chromium with the network cut off: every request that
leaves the server under test is aborted (a government network without the internet), and the
page still lists the operations, in Chinese, from the files the package serves."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fixtures.tools import require
from playwright.sync_api import Route, expect, sync_playwright
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.settings import Settings
from xinyong.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 30_000  # a slow shared CI machine, not a performance bound


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(web_settings: Settings, engine: Engine, catalog: Catalog) -> Iterator[str]:
    port = _free_port()
    app = create_app(web_settings, engine=engine, catalog=catalog)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_api_docs_render_offline(served: str, tmp_path: Path) -> None:
    blocked: list[str] = []
    console: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(served + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=require(str(CHROMIUM), "chromium"),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            context.route("**/*", only_the_server)
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(served + "/api/v1/docs")
            operations = page.locator(".opblock")
            expect(operations.first).to_be_visible(timeout=WAIT_MS)
            assert operations.count() >= 34, console
            expect(page.get_by_text("核查一个信用主体").first).to_be_visible()
            expect(page.get_by_text("信用平台 xinyong 接口").first).to_be_visible()
            page.screenshot(path=str(tmp_path / "api-docs.png"))
        finally:
            chromium.close()
    assert blocked == [], blocked  # nothing was asked of the internet
    assert not [c for c in console if c.startswith("error")], console
