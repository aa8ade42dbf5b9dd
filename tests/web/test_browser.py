"""The portal in a real headless Chromium (Debian's ``chromium`` driven by Playwright, never a
downloaded browser) against a real server: search a company, open its page, see a person on
the 失信被执行人 list with only a masked ID number, download a company's report (PDF) and verify
it by its number. Without ``/usr/bin/chromium`` the tests fail, naming the package to install
(``make test`` installs it through ``scripts/system-packages``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.deliveries import WANG, XINYUAN
from fixtures.site import new_page
from fixtures.tools import require
from playwright.sync_api import Browser, Page, expect

from web.portal_data import PortalSite, served_portal
from xinyong.catalog.loader import Catalog
from xinyong.reports.numbers import grouped

MASKED_WANG = WANG.id_number[:6] + "********" + WANG.id_number[-4:]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[PortalSite]:
    with served_portal(tmp_path_factory.mktemp("browser"), catalog) as served:
        yield served


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as tab:
        yield tab


def test_search_a_company_and_open_its_page(site: PortalSite, page: Page) -> None:
    page.goto(site.url + "/")
    # the first Tab reaches the skip link: keyboard users jump past the navigation
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.get_by_label("企业名称或统一社会信用代码").fill("鑫源商贸")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    page.get_by_role("link", name=XINYUAN.name).click()
    page.wait_for_url(re.compile(rf"/subjects/{site.portal.xinyuan}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(XINYUAN.name)
    expect(page.get_by_text(XINYUAN.uscc).first).to_be_visible()
    # the 行政处罚 tab, marked as the current one, with its records and their status
    page.get_by_role("navigation", name="信用信息栏目").get_by_role(
        "link", name=re.compile("^行政处罚")
    ).click()
    current = page.locator('.tabs a[aria-current="page"]')
    expect(current).to_have_text(re.compile("^行政处罚"))
    expect(page.locator(".record").first).to_contain_text("公示中")
    expect(page.locator(".record").first).to_contain_text("来源部门：濮阳市市场监督管理局")


def test_a_listed_person_shows_only_a_masked_id_number(site: PortalSite, page: Page) -> None:
    page.goto(site.url + "/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="失信黑名单").click()
    page.wait_for_url(re.compile(r"/lists/black$"))
    row = page.get_by_role("row").filter(has_text=WANG.name)
    expect(row).to_contain_text(MASKED_WANG)
    row.get_by_role("link", name=WANG.name).click()
    page.wait_for_url(re.compile(rf"/subjects/{site.portal.wang}"))
    page.get_by_role("link", name=re.compile("^失信惩戒")).first.click()
    expect(page.locator(".record").first).to_contain_text(MASKED_WANG)
    expect(page.locator(".record").first).to_contain_text("失信被执行人")
    html = page.content()
    assert MASKED_WANG in html
    assert WANG.id_number not in html  # anywhere in the page, not only in what is visible
    # and searching his full number finds nobody and does not echo it
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="首页").click()
    page.get_by_label("企业名称或统一社会信用代码").fill(WANG.id_number)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    expect(page.get_by_role("status")).to_contain_text("没有找到")
    assert WANG.id_number not in page.content()


def test_download_a_report_and_verify_it(site: PortalSite, page: Page, tmp_path: Path) -> None:
    page.goto(f"{site.url}/subjects/{site.portal.xinyuan}")
    with page.expect_download() as info:
        page.get_by_role("button", name="下载信用报告（PDF）").click()
    download = info.value
    # saved under whose report it is and the day of issue
    assert download.suggested_filename.startswith(XINYUAN.name + "_")
    assert download.suggested_filename.endswith("_2026-12-07.pdf")
    saved = tmp_path / "report.pdf"
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF")
    found = re.search(rb"/Keywords \((XY\w{18})\)", data)  # the number, in the metadata
    assert found
    number = found.group(1).decode()
    # the number printed (in groups of four) is the one in the file
    pdftotext = require("pdftotext", "poppler-utils")
    text = subprocess.run(
        [pdftotext, str(saved), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert grouped(number) in text and XINYUAN.name in text

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="报告核验").click()
    page.get_by_label("报告编号", exact=True).fill(grouped(number).lower())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/verify/{number}$"))
    expect(page.get_by_role("status").first).to_contain_text("报告真实有效")
    expect(page.locator("main")).to_contain_text(XINYUAN.name)
    expect(page.locator("main")).to_contain_text("信用信息概要")


def test_a_malformed_report_number_gets_a_clear_page(site: PortalSite, page: Page) -> None:
    response = page.goto(site.url + "/verify/XY-not-a-number")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("报告编号格式不正确")
    response = page.goto(site.url + "/verify/XY20261127AAAAAAAAAAAAAAAAAAAA")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("没有编号为")
