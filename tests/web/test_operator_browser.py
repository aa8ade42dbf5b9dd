"""The operator's rooms in a real headless Chromium against a real server: the dashboard draws
its chart (Chart.js from the package, under the page's security policy) and lists the
deliveries, the assessment ranks the departments with reasons and publishes the 通报 that the
public then reads; the auditor's room reads in Chinese. No page scrolls sideways at 390 px.
With ``XINYONG_SCREENSHOTS=DIR`` each page is saved."""

from __future__ import annotations

from pathlib import Path

from fixtures.deliveries import XINYUAN, penalty, write_csv
from fixtures.deliveries import run as run_delivery
from fixtures.site import (
    PHONE,
    horizontal_overflow,
    login,
    logout,
    new_page,
    new_site,
    serving,
    shot,
)
from fixtures.web import make_account
from playwright.sync_api import Browser, expect

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog

RECENT = {"处罚决定日期": "2026/10/15", "处罚有效期": "2027/10/15"}


def _narrow_fits(page) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": PHONE, "height": 900})
    assert horizontal_overflow(page) == 0
    page.set_viewport_size({"width": 1280, "height": 900})


def test_dashboard_assessment_and_audit_rooms(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
    rows = [penalty(XINYUAN, f"濮市监罚决字〔2026〕0070{n}号", **RECENT) for n in range(3)]
    run_delivery(engine, catalog, write_csv(tmp_path / "p.csv", rows))
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)

    with serving(site, catalog), new_page(browser) as page:
        errors: list[str] = []
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
        login(page, url, "operator.one")
        page.goto(url + "/admin/dashboard")
        expect(page.get_by_role("heading", name="运行监测")).to_be_visible()
        expect(page.get_by_role("heading", name="数据交换（省平台及国家平台）")).to_be_visible()
        # Chart.js drew the deliveries chart (a blank canvas has no width set by the library)
        drawn = page.evaluate(
            "() => { const c = document.getElementById('chart-deliveries');"
            " return !!(window.Chart && Chart.getChart(c)); }"
        )
        assert drawn, errors
        expect(page.get_by_text("濮阳市市场监督管理局").first).to_be_visible()
        shot(page, "operator-dashboard")
        _narrow_fits(page)

        page.goto(url + "/admin/assessment?period=2026-12")
        expect(page.get_by_role("heading", name="扣分原因")).to_be_visible()
        page.get_by_label("通报说明（可选）").fill("十二月考核通报")
        page.get_by_role("button", name="发布 2026-12 考核通报").click()
        expect(page.get_by_role("heading", name="2026-12 部门信用工作考核通报")).to_be_visible()
        shot(page, "assessment-report")
        _narrow_fits(page)
        logout(page)

        page.goto(url + "/")
        page.get_by_role("link", name="考核通报").click()
        page.get_by_role("link", name="2026-12").click()
        expect(page.get_by_text("十二月考核通报")).to_be_visible()

        login(page, url, "auditor.one")
        page.goto(url + "/audit")
        expect(page.get_by_role("heading", name="审计链状态")).to_be_visible()
        expect(page.get_by_role("cell", name="发布考核通报").first).to_be_visible()
        page.get_by_label("操作", exact=True).select_option("account.login")
        page.get_by_role("button", name="查询").click()
        expect(page.get_by_role("cell", name="登录").first).to_be_visible()
        shot(page, "audit-room")
        _narrow_fits(page)
        assert not errors, errors
