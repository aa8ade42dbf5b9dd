"""Window filing and supplementary material in a real headless Chromium against a real
server: a clerk of the designating department enters an objection received at the window (the
subject by its code, the list entry, the reason, a scanned file), asks for more material from
its queue; the subject finds the request on its case page, uploads the material, and the
history shows 收到补正材料. Screenshots at 1280 px and 390 px go to ``$XINYONG_SCREENSHOTS``
when it is set."""

from __future__ import annotations

import re
from pathlib import Path

from fixtures.deliveries import XINYUAN
from fixtures.site import login, logout, new_page, new_site, serving, shot
from fixtures.web import make_account
from lists.rows import NDRC, deliver, headers, list_row
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.subjects.models import subjects

DOC = "濮发改信〔2026〕7号"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def test_window_filing_and_supplementary_material(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
    row = list_row(headers(catalog, "YZSX"), XINYUAN, DOC, NDRC)
    deliver(engine, catalog, tmp_path, "YZSX", [row])
    with engine.connect() as conn:
        subject_id = conn.execute(
            select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)
        ).scalar_one()
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    with serving(site, catalog), new_page(browser) as page:
        # -- the clerk enters the objection received at the window
        login(page, url, "ndrc.clerk")
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
        shot(page, "window-form")
        page.get_by_role("button", name="受理异议").click()
        expect(page.get_by_role("status")).to_contain_text("请告知申请人")
        heading = page.get_by_role("heading", level=1).inner_text()
        case_no = re.search(r"YY\d{8}-\d{4}", heading).group(0)  # type: ignore[union-attr]
        expect(page.locator("main")).to_contain_text("窗口代录")
        shot(page, "window-filed")
        # -- and asks for more material
        page.goto(f"{url}/dept/cases/{case_no}")
        page.get_by_label("需补正的材料").fill("履行凭证原件扫描件")
        page.get_by_role("button", name="发送").click()
        expect(page.locator("main")).to_contain_text("要求补正材料")
        logout(page)

        # -- the subject supplies it on its case page
        login(page, url, "xinyuan")
        page.goto(f"{url}/me/cases/{case_no}")
        expect(page.locator("#material")).to_contain_text("履行凭证原件扫描件")
        shot(page, "material-form")
        page.get_by_label(re.compile("^补正材料")).set_input_files(
            [{"name": "履行凭证.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.get_by_label(re.compile("^说明")).fill("补充履行凭证")
        page.get_by_role("button", name="提交补正材料").click()
        expect(page.locator("main")).to_contain_text("收到补正材料")
        expect(page.locator("#material")).to_have_count(0)
        shot(page, "material-received")
