"""A clerk checks a company on the 严重失信主体名单 before granting a licence, sees the hit and
the measures with their legal basis, and reports back; the operator sees the rates."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.clock import TEST_START
from fixtures.deliveries import ENV, XINYUAN
from fixtures.web import csrf_of, login, make_account
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA

TODAY = TEST_START.astimezone(CHINA).date().isoformat()


def test_clerk_checks_and_gives_feedback_in_the_browser(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕1号", NDRC)],
    )
    uscc = XINYUAN.uscc
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "env.clerk")
    home = client.get("/checks")
    assert home.status_code == 200 and "业务事项" in home.text
    ran = client.post(
        "/checks",
        data={"csrf_token": csrf_of(home.text), "subject": uscc, "matter": "licensing"},
        follow_redirects=False,
    )
    assert ran.status_code == 303, ran.text
    page = client.get(ran.headers["location"])
    assert page.status_code == 200 and "严重失信主体名单" in page.text and "依据" in page.text
    measure_ids = re.findall(r'name="measure_id" value="([^"]+)"', page.text)
    subject_ids = re.findall(r'name="subject_id" value="([^"]+)"', page.text)
    assert measure_ids
    answered = client.post(
        ran.headers["location"] + "/feedback",
        data={
            "csrf_token": csrf_of(page.text),
            "measure_id": measure_ids[0],
            "subject_id": subject_ids[0],
            "applied": "yes",
            "action_date": TODAY,
            "case_ref": "濮环许〔2026〕18号",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    again = client.get(ran.headers["location"])
    assert "已反馈：已实施" in again.text
    # the same measure twice is refused with its code, nothing changes
    twice = client.post(
        ran.headers["location"] + "/feedback",
        data={
            "csrf_token": csrf_of(again.text),
            "measure_id": measure_ids[0],
            "subject_id": subject_ids[0],
            "applied": "no",
            "reason_code": "N01",
            "action_date": TODAY,
        },
    )
    assert twice.status_code in (400, 409) and "FEEDBACK_DUPLICATE" in twice.text
    client.cookies.clear()
    login(client, "operator.one")
    admin = client.get("/admin")
    assert admin.status_code == 200 and "联合奖惩反馈情况" in admin.text


def test_bulk_check_over_the_api_answers_a_file_and_the_diff(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    from fixtures.deliveries import HENGDA
    from fixtures.web import bearer, make_token

    token = make_token(engine, catalog, "env.system", ENV.uscc)
    body = f"统一社会信用代码,名称\n{XINYUAN.uscc},\n{HENGDA.uscc},\n,不存在的公司\n".encode()

    def bulk() -> tuple[dict[str, object], list[str]]:
        response = client.post(
            "/api/v1/checks/bulk",
            data={"matter": "licensing", "name": "许可证持有人"},
            files={"file": ("list.csv", body, "text/csv")},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text
        import json

        lines = response.content.decode("utf-8-sig").splitlines()
        return json.loads(response.headers["X-Xinyong-Summary"]), lines

    summary, lines = bulk()
    assert summary["rows"] == 3 and len(lines) == 4 and lines[0].startswith("序号")
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕9号", NDRC)],
    )
    summary, lines = bulk()
    assert summary["previous_check_id"] is not None and summary["new_hits"] == 1
    bad = client.post(
        "/api/v1/checks/bulk",
        data={"matter": "licensing"},
        files={"file": ("list.csv", "甲,乙\n1,2\n".encode(), "text/csv")},
        headers=bearer(token),
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "BULK_NO_COLUMN"
