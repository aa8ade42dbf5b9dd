"""A batch receipt comes a page at a time, in the API and on the page (issue 11, item 2): a
batch with many rejected rows never loads them all for one request, and the permission is
decided before any reject is read."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import bearer, login, make_account, make_token
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.settings import Settings


def test_receipts_and_rejects_are_paged(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, f"濮市监罚决字〔2024〕{i:05d}号", 处罚决定日期="2024-13-45")
        for i in range(7)
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "bad.csv", rows))
    assert receipt.rejected == 7
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    url = f"/api/v1/batches/{receipt.batch_id}"
    first = client.get(url, params={"size": 3}, headers=bearer(token)).json()
    assert first["rejected"] == 7 and (first["page"], first["size"]) == (1, 3)
    assert sorted({r["row"] for r in first["rejects"]}) == [2, 3, 4]
    last = client.get(url, params={"size": 3, "page": 3}, headers=bearer(token)).json()
    assert sorted({r["row"] for r in last["rejects"]}) == [8]
    too_big = client.get(url, params={"size": 1000}, headers=bearer(token))
    assert too_big.status_code == 422
    # refused before anything is read: anonymous 401, another department 404
    assert client.get(url).status_code == 401
    other = make_token(engine, catalog, "env.system", ENV.uscc)
    assert client.get(url, headers=bearer(other)).status_code == 404
    # the page shows 100 rows a page with a pager
    many = [
        penalty(XINYUAN, f"濮市监罚决字〔2025〕{i:05d}号", 处罚类别="无此类别") for i in range(130)
    ]
    big = run(engine, catalog, write_csv(tmp_path / "many.csv", many))
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    page1 = client.get(f"/dept/batches/{big.batch_id}").text
    page2 = client.get(f"/dept/batches/{big.batch_id}", params={"page": 2}).text
    assert "第 1 / 2 页" in page1 and "第 2 / 2 页" in page2
    assert "<td>131</td>" in page2 and "<td>131</td>" not in page1


def test_a_refused_upload_leaves_no_file(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path, web_settings: Settings
) -> None:
    uploads = web_settings.data_dir / "uploads"
    body = write_csv(tmp_path / "p.csv", [penalty(XINYUAN)]).read_bytes()
    # anonymous: refused before anything is stored
    anonymous = client.post(
        "/api/v1/batches", data={"dataset": "XZCF"}, files={"file": ("p.csv", body, "text/csv")}
    )
    assert anonymous.status_code == 401
    # a department system sending for another department, and a file refused as unreadable
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    foreign = client.post(
        "/api/v1/batches",
        data={"dataset": "XZCF", "dept": ENV.uscc},
        files={"file": ("p.csv", body, "text/csv")},
        headers=bearer(token),
    )
    assert foreign.status_code == 403
    refused = client.post(
        "/api/v1/batches",
        data={"dataset": "XZCF"},
        files={"file": ("p.csv", b"\x00\x01binary", "text/csv")},
        headers=bearer(token),
    )
    assert refused.status_code == 422
    assert not uploads.exists() or list(uploads.iterdir()) == []
