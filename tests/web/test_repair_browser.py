"""Credit repair end to end in a real headless Chromium against a real server: an ineligible
penalty shows a disabled 申请信用修复 with its date; the subject applies for an eligible one
(signs the 信用承诺书, uploads proof), the department approves it from its queue, and the record
leaves public view on the portal and in the public API and no longer triggers measures in a
check; the subject downloads the decision. Screenshots at 1280 px and 390 px go to
``$XINYONG_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fixtures.deliveries import SAMR, XINYUAN, penalty, write_csv
from fixtures.deliveries import run as run_delivery
from fixtures.site import login, logout, new_page, new_site, serving, shot
from fixtures.web import make_account
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.sample.datasets import PENALTY_HEADERS
from xinyong.subjects.models import subjects

OLD = "濮市监罚决字〔2026〕00201号"
NEW = "濮市监罚决字〔2026〕00311号"
MEASURE = "列为重点审查对象"  # HN32-1, triggered by a 较重行政处罚
LICENCE = {"罚款金额（万元）": "", "暂扣或吊销证照名称及编号": "食品经营许可证 JY1410902001"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def test_apply_approve_and_the_record_leaves_public_view(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
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

    def public_wsh() -> list[str]:
        body = httpx.get(f"{url}/api/v1/subjects/{subject_id}/records?size=100").json()
        return [i["value"] for r in body["items"] for i in r["items"] if i["value"] in (OLD, NEW)]

    with serving(site, catalog), new_page(browser) as page:
        assert sorted(public_wsh()) == [OLD, NEW]
        # -- the subject sees one record it may repair and one with its date
        login(page, url, "xinyuan")
        page.goto(url + "/me")
        expect(page.get_by_role("button", name="申请信用修复")).to_be_disabled()
        expect(page.locator("main")).to_contain_text("2027-01-15 起可申请")
        shot(page, "repair-me")
        page.get_by_role("link", name="申请信用修复").click()
        page.wait_for_url(re.compile(r"/me/repair/new\?record=\d+$"))
        expect(page.locator(".commitment")).to_contain_text(XINYUAN.name)
        shot(page, "repair-form")
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
        shot(page, "repair-filed")
        logout(page)

        # -- a clerk's check: the penalty triggers measures before the decision
        login(page, url, "samr.clerk")
        page.goto(url + "/checks")
        page.get_by_label(re.compile("^统一社会信用代码")).fill(XINYUAN.uscc)
        page.get_by_label("业务事项").select_option("licensing")
        page.get_by_role("button", name="核查").click()
        page.wait_for_url(re.compile(r"/checks/\d+$"))
        expect(page.locator("main")).to_contain_text(MEASURE)

        # -- the department approves from its queue
        page.goto(url + "/dept/cases")
        page.get_by_role("link", name=case_no, exact=True).click()
        shot(page, "repair-staff")
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
        logout(page)

        # -- the record left public view: portal and API
        assert public_wsh() == [NEW]
        page.goto(f"{url}/subjects/{subject_id}")
        expect(page.locator("main")).not_to_contain_text(OLD)

        # -- the subject downloads the decision
        login(page, url, "xinyuan")
        page.goto(url + "/me")
        page.get_by_role("link", name=case_no, exact=True).click()
        with page.expect_download() as info:
            page.get_by_role("link", name="下载信用修复决定书").click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert "信用修复处理决定书" in text and "准予修复" in text and case_no in text
        shot(page, "repair-closed")
