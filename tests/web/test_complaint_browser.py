"""Complaints and the public case pages in a real headless Chromium against a real server: a
visitor without an account reports a company with a photo, keeps the number and code, follows
the case; the department sees the reporter and answers; the reporter sees the answer; the
statistics page counts it. With ``XINYONG_SCREENSHOTS=DIR`` each page is saved at 1280 and 390
pixels wide."""

from __future__ import annotations

import re
from pathlib import Path

from fixtures.deliveries import SAMR, XINYUAN, penalty, write_csv
from fixtures.deliveries import run as run_delivery
from fixtures.site import login, logout, new_page, new_site, serving, shot
from fixtures.web import make_account
from playwright.sync_api import Browser, expect

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def test_report_follow_answer_and_count(
    tmp_path: Path,
    catalog: Catalog,
    browser: Browser,
) -> None:
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
    run_delivery(
        engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN, "濮罚〔2026〕1号")])
    )
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)
    with serving(site, catalog), new_page(browser) as page:
        page.goto(url + "/")
        page.get_by_role("link", name="失信举报").click()
        shot(page, "complaint-form")
        page.get_by_label("名称", exact=True).fill(XINYUAN.name)
        page.get_by_label("所属行业", exact=True).select_option("market")
        page.get_by_label("失信行为的事实").fill("2026年12月1日在华龙区门店销售过期食品。")
        page.get_by_label("证据材料").set_input_files(str(photo))
        page.get_by_label("姓名", exact=True).fill("周某某")
        page.get_by_label("联系电话或电子邮箱").fill("13912345678")
        page.get_by_role("button", name="提交举报").click()
        expect(page.get_by_text("举报已受理")).to_be_visible()
        shot(page, "complaint-received")
        body = page.content()
        case_no = re.search(r"JB\d{8}-\d{4}", body).group(0)  # type: ignore[union-attr]
        code = re.search(r'class="code">([0-9A-F]{8})<', body).group(1)  # type: ignore[union-attr]
        expect(page.get_by_text("濮阳市市场监督管理局")).to_be_visible()

        page.goto(url + "/cases/follow")
        page.get_by_label("办件编号").fill(case_no)
        page.get_by_label("查询码").fill("00000000")
        page.get_by_role("button", name="查询").click()
        expect(page.get_by_role("alert")).to_contain_text("办件编号或查询码不正确")
        shot(page, "follow-wrong")

        login(page, url, "samr.clerk")
        page.goto(f"{url}/dept/cases/{case_no}")
        expect(page.get_by_text("周某某")).to_be_visible()
        page.get_by_label("办理结果").select_option("substantiated")
        page.get_by_label("理由（将告知申请人）").fill("经现场检查属实，已立案查处。")
        page.get_by_role("button", name="办结").click()
        expect(page.get_by_text("查证属实").first).to_be_visible()
        shot(page, "complaint-staff")
        logout(page)

        page.goto(url + "/cases/follow")
        page.get_by_label("办件编号").fill(case_no)
        page.get_by_label("查询码").fill(code)
        page.get_by_role("button", name="查询").click()
        expect(page.get_by_text("经现场检查属实，已立案查处。")).to_be_visible()
        assert "samr.clerk" not in page.content()
        shot(page, "follow-answered")

        page.goto(url + "/cases/stats")
        expect(page.get_by_text("查证属实 1").first).to_be_visible()
        shot(page, "stats")
