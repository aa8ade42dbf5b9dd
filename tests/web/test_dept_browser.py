"""The clerk's desk in a real headless Chromium at 1280 px and 390 px: the department named,
each dataset's template and dictionary downloadable, no horizontal scrolling on a phone.
Screenshots go to ``$XINYONG_SCREENSHOTS`` when it is set."""

from __future__ import annotations

from pathlib import Path

from fixtures.deliveries import SAMR
from fixtures.site import PHONE, horizontal_overflow, login, new_page, new_site, serving, shot
from fixtures.web import make_account
from playwright.sync_api import Browser

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog


def test_clerk_desk_downloads_at_both_widths(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    site = new_site(tmp_path, catalog)
    make_account(site.engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    with serving(site, catalog), new_page(browser) as page:
        login(page, site.url, "samr.clerk")
        page.goto(site.url + "/dept")
        assert SAMR.name in page.locator("main").inner_text()
        with page.expect_download() as info:
            page.get_by_role("link", name="下载模板（Excel）").first.click()
        assert info.value.suggested_filename.endswith("_报送模板.xlsx")
        shot(page, "dept")
        page.set_viewport_size({"width": PHONE, "height": 900})
        assert horizontal_overflow(page) == 0
