"""Credit repair end to end in a real headless Chromium against a real server: an ineligible
penalty shows a disabled 申请信用修复 with its date; the subject applies for an eligible one
(signs the 信用承诺书, uploads proof), the department approves it from its queue, and the record
leaves public view on the portal and in the public API and no longer triggers measures in a
check; the subject downloads the decision. Screenshots at 1280 px and 390 px go to
``$XINYONG_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from fixtures.deliveries import SAMR, XINYUAN, penalty, write_csv
from fixtures.deliveries import run as run_delivery
from fixtures.tools import require
from fixtures.web import PASSWORD, make_account
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from web.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, _free_port
from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA, StartedClock
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.sample.datasets import PENALTY_HEADERS
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.web.app import create_app

OLD = "濮市监罚决字〔2026〕00201号"
NEW = "濮市监罚决字〔2026〕00311号"
MEASURE = "列为重点审查对象"  # HN32-1, triggered by a 较重行政处罚
LICENCE = {"罚款金额（万元）": "", "暂扣或吊销证照名称及编号": "食品经营许可证 JY1410902001"}
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


def test_apply_approve_and_the_record_leaves_public_view(
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
    rows = [
        penalty(
            XINYUAN,
            OLD,
            处罚类别="暂扣许可证件",
            处罚内容="暂扣食品经营许可证三个月",
            处罚决定日期="2026/05/10",
            处罚有效期="2026/08/10",
            **{
                "罚款金额（万元）": "",
                "暂扣或吊销证照名称及编号": "食品经营许可证 JY14109020012345",
            },
        ),
        penalty(XINYUAN, NEW, 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15"),
    ]
    headers = [*PENALTY_HEADERS, "暂扣或吊销证照名称及编号"]
    receipt = run_delivery(engine, catalog, write_csv(tmp_path / "p.csv", rows, headers))
    assert receipt.rejected == 0, receipt.rejects
    with engine.connect() as conn:
        subject_id = conn.execute(
            select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)
        ).scalar_one()
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
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

    def public_wsh() -> list[str]:
        body = httpx.get(f"{url}/api/v1/subjects/{subject_id}/records?size=100").json()
        return [i["value"] for r in body["items"] for i in r["items"] if i["value"] in (OLD, NEW)]

    try:
        assert sorted(public_wsh()) == [OLD, NEW]
        # -- the subject sees one record it may repair and one with its date
        _login(page, url, "xinyuan")
        page.goto(url + "/me")
        expect(page.get_by_role("button", name="申请信用修复")).to_be_disabled()
        expect(page.locator("main")).to_contain_text("2027-01-15 起可申请")
        _shot(page, "repair-me")
        page.get_by_role("link", name="申请信用修复").click()
        page.wait_for_url(re.compile(r"/me/repair/new\?record=\d+$"))
        expect(page.locator(".commitment")).to_contain_text(XINYUAN.name)
        _shot(page, "repair-form")
        page.get_by_label("本主体已阅读并同意上述承诺").check()
        page.get_by_label(re.compile("^承诺人")).fill("刘志强")
        page.get_by_label("失信行为纠正及法定义务履行情况").fill("已停止违法行为并完成整改")
        page.get_by_label(re.compile("^证明材料")).set_input_files(
            [{"name": "整改报告.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.get_by_role("button", name="签署承诺并提交申请").click()
        expect(page.get_by_role("status")).to_contain_text("信用修复申请已受理")
        heading = page.get_by_role("heading", level=1).inner_text()
        case_no = re.search(r"XF\d{8}-\d{4}", heading).group(0)  # type: ignore[union-attr]
        _shot(page, "repair-filed")
        _logout(page)

        # -- a clerk's check: the penalty triggers measures before the decision
        _login(page, url, "samr.clerk")
        page.goto(url + "/checks")
        page.get_by_label(re.compile("^统一社会信用代码")).fill(XINYUAN.uscc)
        page.get_by_label("业务事项").select_option("licensing")
        page.get_by_role("button", name="核查").click()
        page.wait_for_url(re.compile(r"/checks/\d+$"))
        expect(page.locator("main")).to_contain_text(MEASURE)

        # -- the department approves from its queue
        page.goto(url + "/dept/cases")
        page.get_by_role("link", name=case_no, exact=True).click()
        _shot(page, "repair-staff")
        page.get_by_label("办理结果").select_option("approved")
        page.get_by_label("理由（将告知申请人）").fill("已纠正失信行为并履行义务，准予修复")
        page.get_by_role("button", name="办结").click()
        expect(page.locator("main")).to_contain_text("准予修复")

        # the check no longer finds a measure to apply
        page.goto(url + "/checks")
        page.get_by_label(re.compile("^统一社会信用代码")).fill(XINYUAN.uscc)
        page.get_by_label("业务事项").select_option("licensing")
        page.get_by_role("button", name="核查").click()
        page.wait_for_url(re.compile(r"/checks/\d+$"))
        expect(page.locator("main")).to_contain_text("已修复")
        expect(page.locator("main")).not_to_contain_text(MEASURE)
        _logout(page)

        # -- the record left public view: portal and API
        assert public_wsh() == [NEW]
        page.goto(f"{url}/subjects/{subject_id}")
        expect(page.locator("main")).not_to_contain_text(OLD)

        # -- the subject downloads the decision
        _login(page, url, "xinyuan")
        page.goto(url + "/me")
        page.get_by_role("link", name=case_no, exact=True).click()
        with page.expect_download() as info:
            page.get_by_role("link", name="下载信用修复决定书").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert "信用修复处理决定书" in text and "准予修复" in text and case_no in text
        _shot(page, "repair-closed")
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
