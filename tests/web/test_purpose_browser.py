"""The 查询事由 form in a real browser, on a phone's width: a clerk opens a company's page, is
asked its purpose, picks 其他 and writes it out, and is shown the 政务共享 record; the form fits
390 px without horizontal scrolling and has no serious accessibility problem."""

from __future__ import annotations

from pathlib import Path

from fixtures.deliveries import NDRC, XINYUAN
from fixtures.site import (
    PHONE,
    accessibility_problems,
    horizontal_overflow,
    login,
    new_page,
    new_site,
    serving,
    shot,
)
from fixtures.web import make_account
from playwright.sync_api import Browser
from reports.data import load

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog


def test_a_clerk_states_the_purpose_on_a_phone(
    browser: Browser, catalog: Catalog, tmp_path: Path
) -> None:
    site = new_site(tmp_path, catalog)
    loaded = load(site.engine, catalog, tmp_path / "deliveries")
    make_account(site.engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    with serving(site, catalog), new_page(browser, PHONE, bypass_csp=True) as page:
        login(page, site.url, "ndrc.clerk")
        page.goto(f"{site.url}/subjects/{loaded.company_id}?tab=守信激励")
        assert page.get_by_role("heading", name=XINYUAN.name).is_visible()
        assert page.get_by_role("heading", name="查询事由").is_visible()
        assert "纳税信用等级" not in page.content()
        assert horizontal_overflow(page) == 0
        assert accessibility_problems(page) == []
        shot(page, "purpose-form")

        page.locator("select#purpose").select_option("其他")
        page.get_by_label("具体事由").fill("信用贷款贴息资格审核")
        page.get_by_role("button", name="查看非公开信息").click()
        page.wait_for_load_state()
        assert "纳税信用等级" in page.content()
        assert "信用贷款贴息资格审核" in page.content()
        assert horizontal_overflow(page) == 0
        # the purpose stays while moving between tabs
        page.get_by_role("link", name="行政处罚（3）").first.click()
        page.wait_for_load_state()
        assert "purpose=" in page.url and "查询事由" in page.content()
        assert page.get_by_role("heading", name="查询事由").count() == 0
