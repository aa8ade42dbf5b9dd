"""An objection end to end in a real headless Chromium against a real server: the subject
objects to its list entry on /me with an evidence file and sees it turn 异议处理中 on the
portal; a clerk's check shows 异议处理中; the designating department delivers the corrected
entry (the ordinary path), decides 予以更正 from its queue, and the subject finds the outcome in
its inbox and downloads the decision. Screenshots at 1280 px and 390 px go to
``$XINYONG_SCREENSHOTS`` when it is set (to look at the pages)."""

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


def test_object_correct_and_download_the_decision(
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
        # -- the subject objects on its own page
        login(page, url, "xinyuan")
        page.goto(url + "/me")
        page.get_by_role("link", name="提出异议").first.click()
        page.wait_for_url(re.compile(r"/me/objections/new\?record=\d+$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("对信用记录提出异议")
        shot(page, "objection-form")
        page.get_by_label("异议事由").fill("已于2026年11月履行全部义务，列入理由不再成立")
        page.get_by_label(re.compile("^证据材料")).set_input_files(
            [{"name": "履行凭证.png", "mimeType": "image/png", "buffer": PNG}]
        )
        page.get_by_role("button", name="提交异议").click()
        expect(page.get_by_role("status")).to_contain_text("异议已受理")
        heading = page.get_by_role("heading", level=1).inner_text()
        case_no = re.search(r"YY\d{8}-\d{4}", heading).group(0)  # type: ignore[union-attr]
        expect(page.locator("main")).to_contain_text("部门核实期限")
        shot(page, "case-filed")
        # the portal shows the entry under objection at once
        page.goto(f"{url}/subjects/{subject_id}")
        page.get_by_role("link", name=re.compile("^失信惩戒")).first.click()
        expect(page.locator(".record").first).to_contain_text("异议处理中")
        logout(page)

        # -- a clerk's check shows it, and it no longer triggers the measures
        login(page, url, "ndrc.clerk")
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
        shot(page, "queue")
        page.get_by_role("link", name=case_no, exact=True).click()
        shot(page, "case-staff")
        page.get_by_label("办理结果").select_option("corrected")
        page.get_by_label("理由（将告知申请人）").fill(
            "经核实，已履行义务，名单有效期更正至2026年12月31日"
        )
        page.get_by_role("button", name="办结").click()
        expect(page.locator("main")).to_contain_text("已办结")
        expect(page.locator("main")).to_contain_text("予以更正")
        logout(page)

        # -- the subject gets the outcome and downloads the decision
        login(page, url, "xinyuan")
        page.goto(url + "/me")
        expect(page.locator("#inbox")).to_contain_text(f"异议办件 {case_no} 已办结：予以更正")
        shot(page, "me")
        page.get_by_role("link", name=case_no, exact=True).click()
        with page.expect_download() as info:
            page.get_by_role("link", name="下载异议处理决定书").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert "异议处理决定书" in text and "予以更正" in text and case_no in text
        assert "名单有效期更正至2026年12月31日" in text
        shot(page, "case-closed")
        page.goto(f"{url}/subjects/{subject_id}")
        page.get_by_role("link", name=re.compile("^失信惩戒")).first.click()
        expect(page.locator(".record").first).not_to_contain_text("异议处理中")
