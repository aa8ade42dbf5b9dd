"""The operator computes the month's assessment in the browser, sees the reasons and the
monitoring flags and publishes the 通报; the public reads it on the portal; nobody else may
compute or publish."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.sample.datasets import PENALTY_HEADERS


def test_operator_publishes_and_the_public_reads(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(
            XINYUAN,
            "濮市监罚决字〔2026〕00701号",
            处罚决定日期="2026/11/02",
            处罚有效期="2027/11/02",
        )
    ]
    run(engine, catalog, write_csv(tmp_path / "p.csv", rows, PENALTY_HEADERS))
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    assert client.get("/assessment").status_code == 200
    assert "尚未发布考核通报" in client.get("/assessment").text
    refused = client.get("/admin/assessment?period=2026-12")
    assert refused.status_code in (401, 403) or "请先登录" in refused.text
    login(client, "env.clerk")
    assert client.get("/admin/assessment?period=2026-12").status_code == 403
    client.cookies.clear()
    login(client, "operator.one")
    desk = client.get("/admin/assessment?period=2026-12")
    assert desk.status_code == 200
    assert "濮阳市市场监督管理局" in desk.text and "按期报送率" in desk.text
    assert "数据监测提示" in desk.text and "逾期未报送" in desk.text
    bad = client.get("/admin/assessment?period=2026-13")
    assert bad.status_code == 400 and "考核期间须写作" in bad.text
    sent = client.post(
        "/admin/assessment/publish",
        data={"csrf_token": csrf_of(desk.text), "period": "2026-12", "note": "十二月通报"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/assessment/2026-12"
    client.cookies.clear()
    public = client.get("/assessment/2026-12")
    assert public.status_code == 200 and "十二月通报" in public.text
    assert "数据监测提示" not in public.text and 'name="csrf_token" value' not in re.sub(
        r'<form method="post" action="/logout">.*?</form>', "", public.text
    )
    assert "2026-12" in client.get("/assessment").text
    assert client.get("/assessment/2026-09").status_code == 404
