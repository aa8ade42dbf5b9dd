"""The citizen's main path in a real Chromium against a real server, at 1280 and 390 pixels:
home (figures, charts drawn by the vendored Chart.js under the pages' CSP, latest
publications) → search (status, 法定代表人, filters) → subject page (status banner, one-line
summaries, details on demand) → the report PDF, saved under the subject's name and the day →
/verify with the file itself (identical, then one byte changed) and with the number typed from
paper. At 390 px no page scrolls sideways. Then axe-core (vendored, tests/vendor) checks every
public page at both widths: no serious or critical violation.

With ``XINYONG_SCREENSHOTS=DIR`` the pages are saved there (docs/screens/ holds the ones the
README links)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.deliveries import HENGDA, XINYUAN
from fixtures.site import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    horizontal_overflow,
    new_page,
)
from playwright.sync_api import Browser, Page, expect

from web.portal_data import PortalSite, served_portal
from xinyong.catalog.loader import Catalog

LEGAL_REP = "刘志强"  # 鑫源商贸's 法定代表人 in fixtures.deliveries.registration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[PortalSite]:
    """The portal's sample data, 鑫源商贸 also on the 严重失信主体名单."""
    with served_portal(tmp_path_factory.mktemp("citizen"), catalog, listed=True) as served:
        yield served


def _shot(page: Page, name: str) -> None:
    """The visible part of the page, small enough to commit, when screenshots are wanted."""
    folder = os.environ.get("XINYONG_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _fits(page: Page, width: int) -> None:
    assert horizontal_overflow(page) == 0, f"{page.url} scrolls sideways at {width} px"


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_home_search_subject_report_verify(
    site: PortalSite, browser: Browser, width: int, tmp_path: Path
) -> None:
    with new_page(browser, width) as page:
        # -- home: live figures, both charts drawn, the latest publications
        page.goto(site.url + "/")
        figures = page.get_by_role("region", name="平台数据")
        expect(figures).to_contain_text("法人和非法人组织")
        expect(figures).to_contain_text("条公示中的信用信息")
        drawn = page.evaluate(
            "() => typeof Chart !== 'undefined' && ['chart-monthly', 'chart-tabs']"
            ".every(id => Chart.getChart(id) !== undefined)"
        )
        assert drawn, "Chart.js did not draw the charts (blocked, or not served)"
        expect(page.get_by_role("region", name="最新公示")).to_contain_text(XINYUAN.name)
        expect(page.get_by_role("region", name="红黑名单动态")).to_contain_text(XINYUAN.name)
        _fits(page, width)
        _shot(page, f"portal-home-{width}")

        # -- search: status, 法定代表人, the black-list badge; a filter narrows
        page.get_by_label("企业名称或统一社会信用代码").fill("鑫源商贸")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/search\?q="))
        result = page.locator("ul.results li").filter(has_text=XINYUAN.name)
        expect(result).to_contain_text(f"法定代表人：{LEGAL_REP}")
        expect(result).to_contain_text("严重失信主体名单")
        expect(result).to_contain_text("存续")
        _fits(page, width)
        _shot(page, f"portal-search-{width}")
        page.goto(site.url + "/search?q=有限公司&dishonest=1&district=410922")
        found = page.locator("ul.results li")
        expect(found.filter(has_text=HENGDA.name)).to_have_count(1)
        expect(found.filter(has_text=XINYUAN.name)).to_have_count(0)  # 华龙区, not 清丰县
        page.goto(site.url + "/search?q=鑫源商贸")
        page.get_by_role("link", name=XINYUAN.name).click()

        # -- the subject page opens with its standing; records read in one line
        page.wait_for_url(re.compile(rf"/subjects/{site.portal.xinyuan}$"))
        banner = page.get_by_role("region", name="信用状况提示")
        expect(banner).to_contain_text("列入严重失信主体名单：1 条")
        expect(page.locator("dl.facts").first).to_contain_text(LEGAL_REP)
        _fits(page, width)
        _shot(page, f"portal-subject-{width}")
        page.get_by_role("navigation", name="信用信息栏目").get_by_role(
            "link", name=re.compile("^行政处罚")
        ).click()
        first = page.locator(".record").first
        one_line = r"^濮市监罚决字〔2026〕\d{5}号 · \S+ · .*濮阳市市场监督管理局 · 2026年10月30日$"
        expect(first.locator("p.summary")).to_have_text(re.compile(one_line))
        details = first.locator("details")
        expect(details.locator("dl")).not_to_be_visible()
        details.locator("summary").click()
        expect(details.locator("dl")).to_be_visible()
        expect(details).to_contain_text("统一社会信用代码")  # the human label
        expect(details).not_to_contain_text("行政相对人代码_1")  # not the catalogue's name
        _fits(page, width)

        # -- the report, saved under whose it is and the day
        page.goto(f"{site.url}/subjects/{site.portal.xinyuan}")
        with page.expect_download() as info:
            page.get_by_role("button", name="下载信用报告（PDF）").click()
        download = info.value
        assert download.suggested_filename == (
            f"{XINYUAN.name}_法人和非法人组织公共信用信息报告_2026-12-07.pdf"
        )
        saved = tmp_path / "report.pdf"
        download.save_as(saved)
        number = re.search(rb"/Keywords \((XY\w+)\)", saved.read_bytes())
        assert number is not None
        report_no = number.group(1).decode()

        # -- /verify with the file itself: identical; one byte changed: not
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="报告核验").click()
        page.get_by_label("信用报告 PDF 文件").set_input_files(str(saved))
        page.get_by_role("button", name="核验文件").click()
        expect(page.get_by_role("status").first).to_contain_text("文件与平台签发的报告完全一致")
        expect(page.locator("main")).to_contain_text(XINYUAN.name)
        _fits(page, width)
        page.get_by_role("heading", name="核验结果").scroll_into_view_if_needed()
        _shot(page, f"portal-verify-{width}")
        changed = tmp_path / "changed.pdf"
        changed.write_bytes(saved.read_bytes().replace(b"/Producer", b"/Producex", 1))
        page.get_by_label("信用报告 PDF 文件").set_input_files(str(changed))
        page.get_by_role("button", name="核验文件").click()
        expect(page.get_by_role("alert").first).to_contain_text("文件与平台签发的报告不一致")

        # -- the number as read from paper: grouped, lower case
        grouped = " ".join(report_no[i : i + 4] for i in range(0, len(report_no), 4))
        page.get_by_label("报告编号", exact=True).fill(grouped.lower())
        page.get_by_role("button", name="核验编号").click()
        page.wait_for_url(re.compile(rf"/verify/{report_no}$"))
        expect(page.get_by_role("status").first).to_contain_text("报告真实有效")
        _fits(page, width)


PUBLIC_PAGES = [
    "/",
    "/search?q=濮阳",
    "/search?q=濮阳&dishonest=1",
    "/subjects/{xinyuan}",
    "/subjects/{xinyuan}?tab=行政处罚",
    "/subjects/{wang}",
    "/publicity/xzxk",
    "/publicity/xzcf",
    "/lists/red",
    "/lists/black",
    "/verify",
    "/complaints/new",
    "/cases/follow",
    "/cases/stats",
    "/login",
]


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_public_page_passes_axe_and_fits(
    site: PortalSite, browser: Browser, width: int
) -> None:
    problems: dict[str, list[str]] = {}
    with new_page(browser, width, bypass_csp=True) as page:  # to inject axe-core
        for path in PUBLIC_PAGES:
            url = site.url + path.format(xinyuan=site.portal.xinyuan, wang=site.portal.wang)
            response = page.goto(url)
            assert response is not None and response.status == 200, path
            found = accessibility_problems(page)
            if found:
                problems[path] = found
            _fits(page, width)
    assert problems == {}
