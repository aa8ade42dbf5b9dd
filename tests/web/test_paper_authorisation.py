"""A clerk records a signed paper authorisation with its scan in the browser; a file that is
not a PDF or an image is refused and nothing is stored."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine, func, select

from xinyong.accounts.models import authorisations
from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog

FORM = {
    "subject": XINYUAN.uscc,
    "purpose": "行政许可审查",
    "valid_from": "2026-11-27",
    "valid_until": "2027-05-31",
}


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(authorisations)).scalar_one()


def test_clerk_records_a_paper_authorisation(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN)]))
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    page = client.get("/dept/authorisations")
    assert page.status_code == 200
    refused = client.post(
        "/dept/authorisations",
        data={"csrf_token": csrf_of(page.text), **FORM},
        files={"scan": ("授权书.txt", "我同意".encode(), "text/plain")},
    )
    assert refused.status_code == 400 and _count(engine) == 0
    recorded = client.post(
        "/dept/authorisations",
        data={"csrf_token": csrf_of(page.text), **FORM},
        files={"scan": ("授权书.pdf", b"%PDF-1.4\n% signed paper\n", "application/pdf")},
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    assert _count(engine) == 1
    assert "行政许可审查" in client.get("/dept/authorisations").text
