"""The open-data page and its downloads, on both databases."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import XINYUAN, penalty, run, write_csv
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.opendata.build import build
from xinyong.settings import Settings

RECENT = {"处罚决定日期": "2026/10/15", "处罚有效期": "2027/10/15"}


def test_the_page_lists_the_current_build_and_serves_its_files(
    engine: Engine, catalog: Catalog, client: TestClient, web_settings: Settings, tmp_path: Path
) -> None:
    before = client.get("/open-data")
    assert before.status_code == 200 and "尚未生成" in before.text
    rows = [penalty(XINYUAN, "濮市监罚决字〔2024〕00501号", **RECENT)]
    assert run(engine, catalog, write_csv(tmp_path / "d.csv", rows)).rejected == 0
    with engine.connect() as conn:
        index = build(conn, catalog, web_settings.data_dir / "opendata", on=date(2026, 12, 7))
    page = client.get("/open-data")
    assert page.status_code == 200
    assert "行政处罚" in page.text and "/open-data/files/XZCF.parquet" in page.text
    assert "信用濮阳开放数据使用协议" in page.text
    files = {f["file"]: f for f in index["files"]}
    got = client.get("/open-data/files/XZCF.csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert hashlib.sha256(got.content).hexdigest() == files["XZCF.csv"]["sha256"]
    assert "2026-12-07-XZCF.csv" in got.headers["content-disposition"]
    assert client.get("/open-data/files/SHA256SUMS").status_code == 200
    for bad in ("..%2Flatest.json", "secret.db", "XZCF.csv.bak"):
        assert client.get(f"/open-data/files/{bad}").status_code == 404
