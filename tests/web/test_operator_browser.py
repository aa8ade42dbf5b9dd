"""The operator's rooms in a real headless Chromium against a real server: the dashboard draws
its chart (Chart.js from the package, under the page's security policy) and lists the
deliveries, the assessment ranks the departments with reasons and publishes the 通报 that the
public then reads; the auditor's room reads in Chinese. No page scrolls sideways at 390 px.
With ``XINYONG_SCREENSHOTS=DIR`` each page is saved."""

from __future__ import annotations

import os
from pathlib import Path

from fixtures.deliveries import ENV, HENGDA, SAMR, XINYUAN, penalty, write_csv
from fixtures.deliveries import run as run_delivery
from fixtures.site import (
    DESKTOP,
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
from lists.rows import NDRC, headers, list_row
from lists.rows import deliver as deliver_list
from playwright.sync_api import Browser, Page, expect

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog

RECENT = {"处罚决定日期": "2026/10/15", "处罚有效期": "2027/10/15"}
USCC_COLUMN = "行政相对人代码_1(统一社会信用代码)"


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
        shot(page, "audit-room-filtered")
        _narrow_fits(page)
        assert not errors, errors


def _doc_shot(page: Page, name: str) -> None:
    """The visible part of the page (small enough to commit) into ``$XINYONG_SCREENSHOTS``,
    named with the viewport's width; docs/screens/ holds the ones the README links."""
    folder = os.environ.get("XINYONG_SCREENSHOTS")
    if folder:
        width = (page.viewport_size or {"width": DESKTOP})["width"]
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"))


def _both_widths(page: Page, name: str) -> None:
    """The page at 1280 px and at 390 px, where it must not scroll sideways; both saved."""
    _doc_shot(page, name)
    page.set_viewport_size({"width": PHONE, "height": 900})
    assert horizontal_overflow(page) == 0, f"{page.url} scrolls sideways at {PHONE} px"
    _doc_shot(page, name)
    page.set_viewport_size({"width": DESKTOP, "height": 900})


def test_operator_room_and_the_rooms_people_work_in(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    """The operator creates an account (password shown once), manages a department, finds a
    batch and its receipt, links a pending record, reads the measures by name and the feedback
    rates; a clerk reads a check result and a receipt; the auditor's room. Each at 1280 and
    390 px."""
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
    # 鑫源商贸 on the 严重失信主体名单 (a check with hits); a delivery with a rejected row and a
    # row without a code (waiting for a link)
    listed = list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕1号", NDRC)
    assert deliver_list(engine, catalog, tmp_path, "YZSX", [listed]).rejected == 0
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2026〕00801号", **RECENT),
        penalty(HENGDA, "濮市监罚决字〔2026〕00802号", **{**RECENT, USCC_COLUMN: ""}),
        penalty(XINYUAN, "濮市监罚决字〔2026〕00803号", **{**RECENT, USCC_COLUMN: "91"}),
    ]
    receipt = run_delivery(engine, catalog, write_csv(tmp_path / "mixed.csv", rows))
    assert receipt.pending == 1 and receipt.rejected == 1
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)

    with serving(site, catalog), new_page(browser) as page:
        errors: list[str] = []
        page.on("response", lambda r: errors.append(r.url) if r.status >= 500 else None)

        # -- a clerk checks a company before a licence and reads the result
        login(page, url, "env.clerk")
        page.goto(url + "/checks")
        page.get_by_label("统一社会信用代码（或其他代码、名称）").fill(XINYUAN.uscc)
        page.get_by_role("button", name="核查").click()
        expect(page.get_by_role("heading", name="适用的措施与反馈")).to_be_visible()
        _both_widths(page, "clerk-check-result")
        logout(page)

        # -- the market regulator's clerk reads the receipt of its delivery
        login(page, url, "samr.clerk")
        page.goto(url + f"/dept/batches/{receipt.batch_id}")
        expect(page.get_by_role("heading", name="被拒记录")).to_be_visible()
        _both_widths(page, "clerk-receipt")
        logout(page)

        # -- the operator's room
        login(page, url, "operator.one")
        page.goto(url + "/admin")
        page.get_by_role("link", name="账号与令牌").first.click()
        expect(page.get_by_role("heading", name="账号与令牌")).to_be_visible()
        page.get_by_label("用户名（3–64 个小写字母、数字或 . _ @ -）").fill("samr.second")
        page.get_by_label("显示名称（姓名或系统名称）").fill("李经办")
        page.locator("#role").select_option("clerk")  # the filter above has a 角色 too
        page.get_by_label("所属部门（部门经办人、部门系统必选）").select_option(SAMR.uscc)
        page.get_by_role("button", name="创建账号").click()
        expect(page.get_by_role("heading", name="初始密码（只显示这一次）")).to_be_visible()
        password = page.locator("#secret").inner_text()
        assert len(password) == 16
        page.get_by_role("link", name="返回账号 samr.second").click()
        page.get_by_role("button", name="停用账号").click()
        expect(page.get_by_text("账号已停用：不能再登录")).to_be_visible()
        page.get_by_role("button", name="启用账号").click()
        expect(page.get_by_text("账号已启用。")).to_be_visible()
        page.get_by_label("用途说明").fill("监管局报送接口")
        page.get_by_role("button", name="签发令牌").click()
        expect(page.get_by_role("heading", name="令牌密钥（只显示这一次）")).to_be_visible()
        _both_widths(page, "operator-token")
        page.goto(url + "/admin/accounts")
        expect(page.get_by_role("link", name="samr.second")).to_be_visible()
        _both_widths(page, "operator-accounts")

        page.get_by_role("link", name="报送部门").first.click()
        page.get_by_role("link", name=SAMR.name).first.click()
        expect(page.get_by_role("heading", name=SAMR.name)).to_be_visible()
        _both_widths(page, "operator-department")

        page.goto(url + "/admin/batches")
        page.get_by_label("结果").select_option("pending")
        page.get_by_role("button", name="筛选").click()
        _both_widths(page, "operator-batches")
        page.get_by_role("link", name=f"批次 {receipt.batch_id} 的回执").click()
        expect(page.get_by_role("heading", name=f"批次 {receipt.batch_id} 回执")).to_be_visible()

        page.goto(url + "/admin/pending")
        expect(page.get_by_role("heading", name=HENGDA.name)).to_be_visible()
        _both_widths(page, "operator-pending")
        page.get_by_label("主体代码").first.fill(HENGDA.uscc)
        page.get_by_role("button", name="关联记录").first.click()
        expect(page.get_by_text("已关联到主体")).to_be_visible()

        page.goto(url + "/admin/catalogue")
        expect(page.get_by_role("heading", name="失信惩戒措施")).to_be_visible()
        _both_widths(page, "operator-catalogue")
        page.goto(url + "/admin/feedback")
        expect(page.get_by_role("heading", name="按部门")).to_be_visible()
        expect(page.get_by_text(ENV.name).first).to_be_visible()
        _both_widths(page, "operator-feedback")
        logout(page)

        # -- the auditor's room: the operator's changes, in Chinese
        login(page, url, "auditor.one")
        page.goto(url + "/audit")
        expect(page.get_by_role("cell", name="签发接口令牌").first).to_be_visible()
        expect(page.get_by_role("cell", name="关联待关联记录").first).to_be_visible()
        _both_widths(page, "audit-room")
        assert not errors, errors
