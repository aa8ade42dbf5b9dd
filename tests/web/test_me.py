"""A subject's own pages: its records, who looked at it, its own report (with that history)
whose content a stranger holding the number cannot read, and the authorisations it gives."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import bearer, csrf_of, login, make_account, make_token
from sqlalchemy import Engine, select

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.subjects.models import subjects


def test_subject_sees_who_looked_downloads_its_report_and_grants_access(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN)]))
    with engine.connect() as conn:
        subject_id = conn.execute(
            select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)
        ).scalar_one()
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    # a department system looks at the company's profile (government data included)
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    looked = client.get(
        f"/api/v1/subjects/{subject_id}", params={"purpose": "行政许可审查"}, headers=bearer(token)
    )
    assert looked.status_code == 200

    login(client, "xinyuan")
    me = client.get("/me")
    assert me.status_code == 200
    assert "濮阳市市场监督管理局" in me.text and "行政许可审查" in me.text
    assert "今年还可免费获取 2 次" in me.text

    report = client.post("/me/report", data={"csrf_token": csrf_of(me.text)})
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    report_no = report.headers["x-report-no"]
    assert report_no in report.headers["content-disposition"]
    assert "今年还可免费获取 1 次" in client.get("/me").text
    own = client.get(f"/verify/{report_no}")
    assert own.status_code == 200 and "查询记录" in own.text

    stranger = TestClient(client.app, raise_server_exceptions=False)
    seen = stranger.get(f"/verify/{report_no}")
    assert seen.status_code == 200 and "仅信用主体本人登录后可见" in seen.text
    assert "行政许可审查" not in seen.text
    api = stranger.get(f"/api/v1/reports/{report_no}").json()
    assert api["genuine"] and "withheld" in api["content"]
    assert stranger.get(f"/api/v1/reports/{report_no}.pdf").status_code == 401

    granted = client.post(
        "/me/authorisations",
        data={
            "csrf_token": csrf_of(client.get("/me").text),
            "dept": SAMR.uscc,
            "purpose": "申请公共租赁住房资格审核",
            "valid_until": "2027-02-28",
        },
        follow_redirects=False,
    )
    assert granted.status_code == 303, granted.text
    page = client.get("/me").text
    assert "申请公共租赁住房资格审核" in page and "撤回" in page
    auth_id = re.search(r"/me/authorisations/(\d+)/revoke", page)
    assert auth_id
    revoked = client.post(
        f"/me/authorisations/{auth_id.group(1)}/revoke",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert "已撤回" in client.get("/me").text
