"""Window filing and supplementary material in a real headless Chromium against a real
server: a clerk of the designating department enters an objection received at the window (the
subject by its code, the list entry, the reason, a scanned file), asks for more material from
its queue; the subject finds the request on its case page, uploads the material, and the
history shows 收到补正材料. Screenshots at 1280 px and 390 px go to ``$XINYONG_SCREENSHOTS``
when it is set."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from fixtures.deliveries import XINYUAN
from fixtures.tools import require
from fixtures.web import PASSWORD, make_account
from lists.rows import NDRC, deliver, headers, list_row
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from web.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, _free_port
from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA, StartedClock
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.web.app import create_app

DOC = "濮发改信〔2026〕7号"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("XINYONG_SCREENSHOTS")
    if not folder:
        return
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=require(str(CHROMIUM), "chromium"), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _login(page: Page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _logout(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()


def test_window_filing_and_supplementary_material(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'site.db'}",
        catalog_dir=Path(__file__).resolve().parents[2] / "catalog",
        data_dir=tmp_path / "data",
        public_base_url=url,
        rate_limit_search_per_minute=0,
        rate_limit_report_per_minute=0,
        clock=StartedClock(datetime(2026, 12, 7, 10, tzinfo=CHINA)),
    )
    engine = make_engine(settings)
    upgrade_schema(engine)
    seed_database(engine, catalog)
    row = list_row(headers(catalog, "YZSX"), XINYUAN, DOC, NDRC)
    deliver(engine, catalog, tmp_path, "YZSX", [row])
    with engine.connect() as conn:
        subject_id = conn.execute(
            select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)
        ).scalar_one()
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    app = create_app(settings, engine=engine, catalog=catalog)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > started:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    context = browser.new_context(accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        # -- the clerk enters the objection received at the window
        _login(page, url, "ndrc.clerk")
        page.goto(url + "/dept/cases")
        page.get_by_role("link", name="窗口代录异议").click()
        page.get_by_label(re.compile("^信用主体代码")).fill("91410900ZZZZZZZZZZ")
        page.get_by_role("button", name="查找").click()
        expect(page.get_by_role("alert")).to_be_visible()
        page.get_by_label(re.compile("^信用主体代码")).fill(XINYUAN.uscc)
        page.get_by_role("button", name="查找").click()
        expect(page.get_by_role("heading", level=2)).to_have_text(XINYUAN.name)
        page.get_by_label(re.compile("^异议事由")).fill("申请人当面提交：已履行全部义务")
        page.get_by_label(re.compile("^扫描的证据材料")).set_input_files(
            [{"name": "扫描件.png", "mimeType": "image/png", "buffer": PNG}]
        )
        _shot(page, "window-form")
        page.get_by_role("button", name="受理异议").click()
        expect(page.get_by_role("status")).to_contain_text("请告知申请人")
        heading = page.get_by_role("heading", level=1).inner_text()
        case_no = re.search(r"YY\d{8}-\d{4}", heading).group(0)  # type: ignore[union-attr]
        expect(page.locator("main")).to_contain_text("窗口代录")
        _shot(page, "window-filed")
        # -- and asks for more material
        page.goto(f"{url}/dept/cases/{case_no}")
        page.get_by_label("需补正的材料").fill("履行凭证原件扫描件")
        page.get_by_role("button", name="发送").click()
        expect(page.locator("main")).to_contain_text("要求补正材料")
        _logout(page)

        # -- the subject supplies it on its case page
        _login(page, url, "xinyuan")
        page.goto(f"{url}/me/cases/{case_no}")
        expect(page.locator("#material")).to_contain_text("履行凭证原件扫描件")
        _shot(page, "material-form")
        page.get_by_label(re.compile("^补正材料")).set_input_files(
            [{"name": "履行凭证.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.get_by_label(re.compile("^说明")).fill("补充履行凭证")
        page.get_by_role("button", name="提交补正材料").click()
        expect(page.locator("main")).to_contain_text("收到补正材料")
        expect(page.locator("#material")).to_have_count(0)
        _shot(page, "material-received")
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
