"""Department delivery in the browser (clerk pages) and over the API (token): both reach the
ingestion service of the spine, see only their own department's batches, and keep rejects."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, HENGDA, SAMR, XINYUAN, penalty, write_csv
from fixtures.web import bearer, csrf_of, finished_job, login, make_account, make_token
from sqlalchemy import Engine, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog


def _file(tmp_path: Path, encoding: str = "utf-8") -> Path:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2024〕00011号"),
        penalty(HENGDA, "濮市监罚决字〔2024〕00012号", 处罚决定日期="2024-13-45"),
    ]
    return write_csv(tmp_path / "处罚.csv", rows, encoding=encoding)


def test_clerk_uploads_a_gbk_file_and_reads_the_receipt(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    home = client.get("/dept")
    assert home.status_code == 200 and "报送文件" in home.text
    path = _file(tmp_path, "gbk")
    with path.open("rb") as fh:
        response = client.post(
            "/dept/batches",
            data={"csrf_token": csrf_of(home.text), "dataset": "XZCF"},
            files={"file": ("处罚.csv", fh, "text/csv")},
            follow_redirects=False,
        )
    assert response.status_code == 303, response.text
    job_page = response.headers["location"]
    assert job_page.startswith("/dept/deliveries/")
    # the job page follows the delivery (queued, running) and then shows the receipt
    for _ in range(600):
        receipt = client.get(job_page)
        if "/dept/deliveries/" not in str(receipt.url):
            break
        assert receipt.status_code == 200 and "报送任务" in receipt.text
        time.sleep(0.05)
    assert receipt.status_code == 200
    assert "/dept/batches/" in str(receipt.url)
    assert "被拒 1" in receipt.text and "处罚决定日期" in receipt.text
    rejects = client.get(str(receipt.url) + "/rejects")
    assert rejects.status_code == 200
    rows = list(csv.reader(io.StringIO(rejects.content.decode("gbk"))))
    assert rows[0][-1] == "错误原因" and len(rows) == 2
    assert "/dept/batches/" in client.get("/dept").text


def test_upload_without_csrf_token_is_refused_and_stores_nothing(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    with _file(tmp_path).open("rb") as fh:
        response = client.post(
            "/dept/batches",
            data={"csrf_token": "forged", "dataset": "XZCF"},
            files={"file": ("处罚.csv", fh, "text/csv")},
        )
    assert response.status_code == 403 and "CSRF_FAILED" in response.text
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_events.c.action))]
    assert "batch.ingest" not in actions and "access.denied" in actions


def test_department_system_delivers_over_the_api(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    other = make_token(engine, catalog, "env.system", ENV.uscc)
    with _file(tmp_path).open("rb") as fh:
        response = client.post(
            "/api/v1/batches",
            data={"dataset": "XZCF"},
            files={"file": ("处罚.csv", fh, "text/csv")},
            headers=bearer(token),
        )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["state"] == "queued"
    assert response.headers["location"] == accepted["status_url"]
    job = finished_job(client, accepted["status_url"], bearer(token))
    assert job["state"] == "done", job
    # another department cannot see the job either
    assert client.get(accepted["status_url"], headers=bearer(other)).status_code == 404
    batch_id = job["batch_id"]
    got = client.get(f"/api/v1/batches/{batch_id}", headers=bearer(token))
    assert got.status_code == 200
    receipt = got.json()
    assert receipt["new"] == 1 and receipt["rejected"] == 1
    assert receipt["rejects"][0]["code"]
    # another department learns nothing about it, not even that it exists
    foreign = client.get(f"/api/v1/batches/{batch_id}", headers=bearer(other))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "BATCH_NOT_FOUND"
    assert client.get("/api/v1/batches", headers=bearer(other)).json()["items"] == []
    rejects = client.get(f"/api/v1/batches/{batch_id}/rejects", headers=bearer(token))
    assert rejects.status_code == 200 and "错误原因" in rejects.content.decode("utf-8-sig")


def test_api_refuses_other_departments_and_bad_tokens(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    token = make_token(engine, catalog, "env.system", ENV.uscc)
    with _file(tmp_path).open("rb") as fh:
        response = client.post(
            "/api/v1/batches",
            data={"dataset": "XZCF", "dept": SAMR.uscc},
            files={"file": ("处罚.csv", fh, "text/csv")},
            headers=bearer(token),
        )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "DEPT_NOT_OWN"
    bad = client.get("/api/v1/batches", headers=bearer("xy_not-a-token"))
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "TOKEN_INVALID"
    assert client.get("/api/v1/batches").status_code == 401
