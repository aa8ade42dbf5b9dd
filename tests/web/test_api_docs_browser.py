"""The API documentation renders in Chromium with the network cut off: every request that
leaves the server under test is aborted (a government network without the internet), and the
page still lists the operations, in Chinese, from the files the package serves."""

from __future__ import annotations

from pathlib import Path

from fixtures.site import WAIT_MS, new_page, new_site, serving, shot
from playwright.sync_api import Browser, Route, expect

from xinyong.catalog.loader import Catalog


def test_api_docs_render_offline(browser: Browser, catalog: Catalog, tmp_path: Path) -> None:
    site = new_site(tmp_path, catalog)
    blocked: list[str] = []
    errors: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(site.url + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    with serving(site, catalog), new_page(browser) as page:
        page.context.route("**/*", only_the_server)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(site.url + "/api/v1/docs")
        operations = page.locator(".opblock")
        expect(operations.first).to_be_visible(timeout=WAIT_MS)
        assert operations.count() >= 38, errors
        expect(page.get_by_text("核查一个信用主体").first).to_be_visible()
        expect(page.get_by_text("信用平台 xinyong 接口").first).to_be_visible()
        shot(page, "api-docs")
    assert blocked == [], blocked  # nothing was asked of the internet
    assert errors == [], errors
