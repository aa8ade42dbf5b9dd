"""The exchange from the outside, on both databases: ``xinyong exchange export`` writes the
packages, ``xinyong exchange ack`` reads the province's acknowledgement with a reject, the
source department's clerk sees the rejected record and its reason on ``/dept/exchange`` and over
the API; the province's system pulls the same changes over HTTP with its token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import TESTER, bearer, login, make_account, make_token
from sqlalchemy import Engine
from typer.testing import CliRunner

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.cli import app as cli_app
from xinyong.departments import service as departments

PROVINCE_DEPT = "11410000PY0000102R"


@pytest.mark.usefixtures("cli")
def test_export_ack_and_the_department_desk(
    engine: Engine, catalog: Catalog, client: TestClient, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2024〕00201号"),
        penalty(HENGDA, "濮市监罚决字〔2024〕00202号"),
    ]
    assert run(engine, catalog, write_csv(tmp_path / "d.csv", rows)).rejected == 0
    out = tmp_path / "out"
    out.mkdir()
    runner = CliRunner()
    exported = runner.invoke(
        cli_app, ["exchange", "export", "--since", "0", "--output", str(out), "--json"]
    )
    assert exported.exit_code == 0, exported.output
    answer = json.loads(exported.stdout)
    (package,) = answer["packages"]
    assert answer["records"] == 2 and answer["next"].startswith("x1_")
    body = (out / package["body_file"]).read_text(encoding="utf-8").splitlines()
    second = json.loads(body[1])
    ack = tmp_path / "ack.json"
    ack.write_text(
        json.dumps(
            {
                "package_id": package["package_id"],
                "results": [
                    {
                        "seq": second["seq"],
                        "status": "rejected",
                        "reason": "处罚决定日期晚于上报日期",
                    }
                ],
                "others": "accepted",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    acked = runner.invoke(cli_app, ["exchange", "ack", str(ack)])
    assert acked.exit_code == 0, acked.output
    assert "已接收 1 条，被退回 1 条" in acked.stdout

    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    page = client.get("/dept/exchange")
    assert page.status_code == 200
    assert "处罚决定日期晚于上报日期" in page.text and "00202" in page.text
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    api = client.get("/api/v1/exchange/rejections", headers=bearer(token)).json()
    assert api["summary"]["rejected"] == 1 and api["summary"]["accepted"] == 1
    assert api["items"][0]["reason"] == "处罚决定日期晚于上报日期"


def test_the_province_pulls_changes_with_its_token(
    engine: Engine, catalog: Catalog, client: TestClient, tmp_path: Path
) -> None:
    rows = [penalty(XINYUAN, "濮市监罚决字〔2024〕00301号")]
    assert run(engine, catalog, write_csv(tmp_path / "d.csv", rows)).rejected == 0
    with engine.begin() as conn:
        departments.add(
            conn,
            catalog,
            TESTER,
            uscc=PROVINCE_DEPT,
            name="河南省公共信用信息共享平台",
            datasets=["SXBZX"],
            division="410000",
        )
    province = make_token(engine, catalog, "province.system", PROVINCE_DEPT)
    first = client.get("/api/v1/exchange/changes?limit=10", headers=bearer(province))
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["op"] for i in page["items"]] == ["ADD"] and not page["has_more"]
    assert page["items"][0]["data"]["CF_WSH"] == "濮市监罚决字〔2024〕00301号"
    again = client.get(f"/api/v1/exchange/changes?cursor={page['next']}", headers=bearer(province))
    assert again.json()["items"] == []
    samr = make_token(engine, catalog, "samr.system", SAMR.uscc)
    refused = client.get("/api/v1/exchange/changes", headers=bearer(samr))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "EXCHANGE_PULL_NOT_ALLOWED"
    assert client.get("/api/v1/exchange/changes").status_code == 401
