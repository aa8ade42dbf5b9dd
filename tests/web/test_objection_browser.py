"""An objection end to end in a real headless Chromium against a real server: the subject
objects to its list entry on /me with an evidence file and sees it turn 异议处理中 on the
portal; a clerk's check shows 异议处理中; the designating department delivers the corrected
entry (the ordinary path), decides 予以更正 from its queue, and the subject finds the outcome in
its inbox and downloads the decision. Screenshots at 1280 px and 390 px go to
``$XINYONG_SCREENSHOTS`` when it is set (to look at the pages)."""

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


def test_object_correct_and_download_the_decision(
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
        # -- the subject objects on its own page
        _login(page, url, "xinyuan")
        page.goto(url + "/me")
        page.get_by_role("link", name="提出异议").first.click()
        page.wait_for_url(re.compile(r"/me/objections/new\?record=\d+$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("对信用记录提出异议")
        _shot(page, "objection-form")
        page.get_by_label("异议事由").fill("已于2026年11月履行全部义务，列入理由不再成立")
        page.get_by_label(re.compile("^证据材料")).set_input_files(
            [{"name": "履行凭证.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.get_by_role("button", name="提交异议").click()
        expect(page.get_by_role("status")).to_contain_text("异议已受理")
        heading = page.get_by_role("heading", level=1).inner_text()
        case_no = re.search(r"YY\d{8}-\d{4}", heading).group(0)  # type: ignore[union-attr]
        expect(page.locator("main")).to_contain_text("部门核实期限")
        _shot(page, "case-filed")
        # the portal shows the entry under objection at once
        page.goto(f"{url}/subjects/{subject_id}")
        page.get_by_role("link", name=re.compile("^失信惩戒")).first.click()
        expect(page.locator(".record").first).to_contain_text("异议处理中")
        _logout(page)

        # -- a clerk's check shows it, and it no longer triggers the measures
        _login(page, url, "ndrc.clerk")
        page.goto(url + "/checks")
        page.get_by_label(re.compile("^统一社会信用代码")).fill(XINYUAN.uscc)
        page.get_by_label("业务事项").select_option("procurement")
        page.get_by_role("button", name="核查").click()
        page.wait_for_url(re.compile(r"/checks/\d+$"))
        expect(page.locator("main")).to_contain_text("异议处理中")

        # -- the department corrects through an ordinary delivery, then decides
        fixed = list_row(headers(catalog, "YZSX"), XINYUAN, DOC, NDRC, valid_until="2026-12-31")
        deliver(engine, catalog, tmp_path, "YZSX", [fixed], name="fixed.csv")
        page.goto(url + "/dept/cases")
        _shot(page, "queue")
        page.get_by_role("link", name=case_no, exact=True).click()
        _shot(page, "case-staff")
        page.get_by_label("办理结果").select_option("corrected")
        page.get_by_label("理由（将告知申请人）").fill(
            "经核实，已履行义务，名单有效期更正至2026年12月31日"
        )
        page.get_by_role("button", name="办结").click()
        expect(page.locator("main")).to_contain_text("已办结")
        expect(page.locator("main")).to_contain_text("予以更正")
        _logout(page)

        # -- the subject gets the outcome and downloads the decision
        _login(page, url, "xinyuan")
        page.goto(url + "/me")
        expect(page.locator("#inbox")).to_contain_text(f"异议办件 {case_no} 已办结：予以更正")
        _shot(page, "me")
        page.get_by_role("link", name=case_no, exact=True).click()
        with page.expect_download() as info:
            page.get_by_role("link", name="下载异议处理决定书").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert "异议处理决定书" in text and "予以更正" in text and case_no in text
        assert "名单有效期更正至2026年12月31日" in text
        _shot(page, "case-closed")
        page.goto(f"{url}/subjects/{subject_id}")
        page.get_by_role("link", name=re.compile("^失信惩戒")).first.click()
        expect(page.locator(".record").first).not_to_contain_text("异议处理中")
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
