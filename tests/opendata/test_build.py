"""Open data (issue 16 item 7), on both databases: the daily build writes CSV, JSON lines and
Parquet per public dataset with what the disclosure engine lets anyone see (a person's 行政处罚
and a withdrawn record stay out), a data dictionary, the licence and checksums that match; it
is published whole by ``xinyong daily``."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.cli import reset_cli
from fixtures.deliveries import HENGDA, SAMR, WANG, XINYUAN, penalty, run, write_csv
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.catalog.loader import Catalog
from xinyong.cli import app as cli_app
from xinyong.opendata.build import build, latest
from xinyong.records import service as records_service
from xinyong.records.models import records

ON = date(2026, 12, 7)
# decided a month before the fixtures' delivery day: still in publicity on ON
RECENT = {"处罚决定日期": "2026/10/15", "处罚有效期": "2027/10/15"}


def _deliver(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2024〕00401号", **RECENT),
        penalty(HENGDA, "濮市监罚决字〔2024〕00402号", 处罚内容='=HYPERLINK("http://x")', **RECENT),
        penalty(HENGDA, "濮市监罚决字〔2024〕00403号", **RECENT),
        penalty(WANG, "濮市监罚决字〔2024〕00404号", **RECENT),
    ]
    assert run(engine, catalog, write_csv(tmp_path / "d.csv", rows)).rejected == 0
    with engine.begin() as conn:
        rid = conn.execute(
            select(records.c.id).where(records.c.natural_key.contains("00403"))
        ).scalar_one()
        records_service.withdraw(conn, rid, dept_uscc=SAMR.uscc, reason="撤销", actor="samr")


def test_a_build_holds_what_anyone_may_see_in_three_formats(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    out = tmp_path / "opendata"
    with engine.connect() as conn:
        index = build(conn, catalog, out, on=ON)
    assert latest(out) == index
    folder = out / index["folder"]
    rows = {d["code"]: d["rows"] for d in index["datasets"]}
    assert rows["XZCF"] == 2  # the person's penalty and the withdrawn one are not public
    assert "GZRY" not in rows and "NSXY" not in rows  # 政务共享 datasets are never published

    with (folder / "XZCF.csv").open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["行政处罚决定书文号"] for r in table] == [
        "濮市监罚决字〔2024〕00401号",
        "濮市监罚决字〔2024〕00402号",
    ]
    assert table[1]["处罚内容"].startswith("'=")  # a formula is inert text in the CSV
    assert "证件号码" not in table[0] or not table[0]["证件号码"]
    lines = [
        json.loads(x) for x in (folder / "XZCF.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [x["CF_WSH"] for x in lines] == [r["行政处罚决定书文号"] for r in table]
    assert lines[1]["CF_NR"].startswith("=")  # JSON keeps the text as sent
    parquet = pq.read_table(folder / "XZCF.parquet").to_pylist()
    assert [p["CF_WSH"] for p in parquet] == [x["CF_WSH"] for x in lines]
    assert all(p["state"] == "公示中" for p in parquet)
    assert WANG.name not in (folder / "XZCF.csv").read_text(encoding="utf-8-sig")

    dictionary = json.loads((folder / "XZCF.dictionary.json").read_text(encoding="utf-8"))
    fields = {f["code"] for f in dictionary["fields"]}
    assert {"record_id", "state", "CF_WSH"} <= fields
    licence = (folder / "LICENCE.txt").read_text(encoding="utf-8")
    assert "信用濮阳开放数据使用协议" in licence and ON.isoformat() in licence
    sums = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(sums) == len(index["files"])
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


@pytest.mark.usefixtures("cli")
def test_daily_publishes_a_new_build_and_keeps_a_week(
    engine: Engine, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deliver(engine, catalog, tmp_path)
    data = tmp_path / "data"
    monkeypatch.setenv("XINYONG_DATA_DIR", str(data))
    reset_cli()  # the command line read its settings before
    runner = CliRunner()
    for day in range(1, 10):
        done = runner.invoke(cli_app, ["daily", "--as-of", f"2026-12-{day:02d}", "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["steps"]["opendata.build"] == {"built": 1, "rows": 2}
    index = latest(data / "opendata")
    assert index is not None and index["as_of"] == "2026-12-09"
    builds = [p for p in (data / "opendata").iterdir() if p.is_dir()]
    assert len(builds) == 7 and index["folder"] in {p.name for p in builds}
