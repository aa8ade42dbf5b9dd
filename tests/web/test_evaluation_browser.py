"""Credit evaluation pages in a real headless Chromium against a real server: the company sees
its grade, the points of each indicator with the records behind them and when the grade would
change (/me/evaluation); the public sees only the grade on the subject page; the operator sees
the distribution with its SVG bars and the PSI after a second run (/admin/evaluation). With
``XINYONG_SCREENSHOTS=DIR`` each page is saved at 1280 and 390 pixels wide; none of them
scrolls sideways on the phone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fixtures.deliveries import SAMR, XINYUAN, penalty, registration, write_csv
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
from sqlalchemy import select

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import run_model
from xinyong.subjects.models import subjects


def test_grades_explained_to_the_subject_and_monitored_by_operators(
    tmp_path: Path, catalog: Catalog, browser: Browser
) -> None:
    site = new_site(tmp_path, catalog)
    engine, url = site.engine, site.url
    row = registration(XINYUAN)
    run_delivery(
        engine,
        catalog,
        write_csv(tmp_path / "r.csv", [row], list(row)),
        dataset="FRJC",
        dept=SAMR,
    )
    model = model_book(catalog).get("QYGGXY")
    with engine.begin() as conn:
        run_model(conn, catalog, model, as_of=date(2026, 12, 7), actor="test")
    run_delivery(
        engine,
        catalog,
        write_csv(
            tmp_path / "p.csv",
            [
                penalty(
                    XINYUAN,
                    "濮罚〔2026〕7号",
                    **{"处罚决定日期": "2026/09/01", "处罚有效期": "2027/03/01"},
                )
            ],
        ),
    )
    with engine.begin() as conn:
        run_model(conn, catalog, model, as_of=date(2026, 12, 7), actor="test")
        subject_id = conn.execute(
            select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)
        ).scalar_one()
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    make_account(engine, catalog, "operator", Role.OPERATOR)
    with serving(site, catalog), new_page(browser) as page:
        page.goto(f"{url}/subjects/{subject_id}")
        expect(page.get_by_text("企业公共信用综合评价")).to_be_visible()
        assert "监管分类" not in page.content()  # the public sees the grade only
        shot(page, "evaluation-public")

        login(page, url, "xinyuan")
        page.goto(url + "/me")
        page.get_by_role("link", name="我的信用评价").click()
        expect(page.get_by_role("heading", name="企业公共信用综合评价")).to_be_visible()
        expect(page.get_by_text("行政处罚信息").first).to_be_visible()
        expect(page.get_by_text("什么会改变评价等级")).to_be_visible()
        shot(page, "evaluation-me")
        page.set_viewport_size({"width": PHONE, "height": 900})
        assert horizontal_overflow(page) == 0
        logout(page)

        login(page, url, "operator")
        page.goto(url + "/admin/evaluation")
        expect(page.get_by_role("heading", name="等级分布")).to_be_visible()
        expect(page.get_by_text("PSI").first).to_be_visible()
        assert page.locator("svg.columns rect").count() >= 1
        shot(page, "evaluation-admin")
        page.set_viewport_size({"width": PHONE, "height": 900})
        assert horizontal_overflow(page) == 0
