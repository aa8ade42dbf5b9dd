"""The open-data page and the department's exchange desk in a real headless Chromium against a
real server: a visitor finds the downloads from the footer and fetches a CSV; a clerk whose
record the province rejected finds it and the reason under 交换回执. Neither page scrolls
sideways at 390 px. With ``XINYONG_SCREENSHOTS=DIR`` each page is saved at 1280 and 390 px."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, write_csv
from fixtures.deliveries import run as run_delivery
from fixtures.site import PHONE, horizontal_overflow, login, new_page, new_site, serving, shot
from fixtures.web import TESTER, make_account
from playwright.sync_api import Browser, expect

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.exchange import ack, outbound
from xinyong.opendata.build import build

RECENT = {"处罚决定日期": "2026/10/15", "处罚有效期": "2027/10/15"}


def test_open_data_and_the_exchange_desk(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2026〕00601号", **RECENT),
        penalty(HENGDA, "濮市监罚决字〔2026〕00602号", **RECENT),
    ]
    run_delivery(engine, catalog, write_csv(tmp_path / "p.csv", rows))
    out = tmp_path / "out"
    out.mkdir()
    with engine.begin() as conn:
        (package,) = outbound.export(conn, catalog, TESTER, since="0", output=out).packages
        build(conn, catalog, site.settings.data_dir / "opendata", on=date(2026, 12, 7))
    second = json.loads((out / package["body_file"]).read_text(encoding="utf-8").splitlines()[1])
    answer = tmp_path / "ack.json"
    answer.write_text(
        json.dumps(
            {
                "package_id": package["package_id"],
                "results": [
                    {"seq": second["seq"], "status": "rejected", "reason": "处罚决定书文号重复"}
                ],
                "others": "accepted",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with engine.begin() as conn:
        ack.reconcile(conn, TESTER, answer)
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)

    with serving(site, catalog), new_page(browser) as page:
        page.goto(url + "/")
        page.get_by_role("link", name="开放数据").click()
        expect(page.get_by_role("heading", name="开放数据", exact=True)).to_be_visible()
        expect(page.get_by_text("行政处罚信息（XZCF）")).to_be_visible()
        shot(page, "open-data")
        with page.expect_download() as download:
            page.get_by_role("link", name="CSV").first.click()
        assert download.value.suggested_filename.endswith(".csv")
        page.set_viewport_size({"width": PHONE, "height": 900})
        assert horizontal_overflow(page) == 0
        page.set_viewport_size({"width": 1280, "height": 900})

        login(page, url, "samr.clerk")
        page.get_by_role("link", name="交换回执").click()
        expect(page.get_by_text("处罚决定书文号重复")).to_be_visible()
        expect(page.get_by_text("00602", exact=False)).to_be_visible()
        shot(page, "dept-exchange")
        page.set_viewport_size({"width": PHONE, "height": 900})
        assert horizontal_overflow(page) == 0
