"""The `xinyong` command line through its root app, against the test databases: ingest with
its receipt and exit status, batches, subjects, the pending queue, records, code check, db
upgrade and the sample data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures.cli import point_at, reset_cli
from fixtures.deliveries import (
    ENV,
    FRJC_HEADERS,
    HENGDA,
    LONGDU,
    NDRC,
    NOTHING,
    SAMR,
    WANG,
    XINYUAN,
    Citizen,
    make_id,
    make_id15,
    penalty,
    read_csv,
    record_by_wsh,
    registration,
    stored_records,
    table_counts,
    write_csv,
)
from sqlalchemy import Engine, inspect
from typer.testing import CliRunner, Result

from xinyong.catalog.loader import load_catalog
from xinyong.cli import app
from xinyong.db import make_engine
from xinyong.records.states import WITHDRAWN
from xinyong.settings import Settings

RECEIPT_KEYS = {
    "batch_id",
    "dataset",
    "received",
    "new",
    "updated",
    "unchanged",
    "pending",
    "rejected",
    "warnings",
    "rejects",
}
USCC = "行政相对人代码_1(统一社会信用代码)"


def xinyong(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def receipt_of(result: Result) -> dict[str, Any]:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # one JSON object, nothing else on stdout
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


def ingest(path: Path, *extra: str | Path, dataset: str = "XZCF", dept: str = SAMR.uscc) -> Result:
    return xinyong("ingest", path, "--dataset", dataset, "--dept", dept, "--json", *extra)


def good_rows() -> list[dict[str, str]]:
    return [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(WANG, "濮市监罚决字〔2023〕00102号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00103号", **{USCC: ""}),  # pending
    ]


def mixed_rows() -> list[dict[str, str]]:
    return [
        *good_rows(),
        penalty(LONGDU, "濮市监罚决字〔2023〕00104号", 处罚决定日期="2023-02-30"),
    ]


# -- ingest ----------------------------------------------------------------------------------


def test_ingest_json_prints_only_the_receipt_and_exits_0(
    cli: None, engine: Engine, tmp_path: Path
) -> None:
    result = ingest(write_csv(tmp_path / "处罚.csv", good_rows(), encoding="gbk"))
    assert result.exit_code == 0, result.output
    receipt = receipt_of(result)
    assert set(receipt) == RECEIPT_KEYS
    assert receipt["dataset"] == "XZCF"
    assert isinstance(receipt["batch_id"], int)
    assert (receipt["received"], receipt["new"], receipt["pending"], receipt["rejected"]) == (
        3,
        2,
        1,
        0,
    )
    assert (receipt["warnings"], receipt["rejects"]) == ([], [])
    assert len(stored_records(engine)) == 3


def test_ingest_exits_1_when_some_rows_are_rejected(
    cli: None, engine: Engine, tmp_path: Path
) -> None:
    result = ingest(write_csv(tmp_path / "处罚.csv", mixed_rows()))
    assert result.exit_code == 1, result.output
    receipt = receipt_of(result)
    assert (receipt["new"], receipt["pending"], receipt["rejected"]) == (2, 1, 1)
    (reject,) = receipt["rejects"]
    assert set(reject) == {"row", "field", "value", "code", "message"}
    assert (reject["row"], reject["field"], reject["value"], reject["code"]) == (
        5,
        "CF_JDRQ",
        "2023-02-30",
        "DATE_INVALID",
    )
    assert len(stored_records(engine)) == 3  # the good rows are stored


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--dataset", "NOPE"), "DATASET_UNKNOWN"),
        (("--dept", NDRC.uscc), "DEPT_DATASET_NOT_ALLOWED"),
        (("--dept", "91410902MA0000000X"), "DEPT_UNKNOWN"),
    ],
)
def test_ingest_exits_2_on_a_refused_request(
    cli: None, engine: Engine, tmp_path: Path, args: tuple[str, str], code: str
) -> None:
    path = write_csv(tmp_path / "处罚.csv", good_rows())
    options = dict(zip(args[::2], args[1::2], strict=True))
    result = ingest(
        path,
        dataset=options.get("--dataset", "XZCF"),
        dept=options.get("--dept", SAMR.uscc),
    )
    assert result.exit_code == 2, result.output
    error = receipt_of(result)
    assert set(error) == {"error"}
    assert set(error["error"]) == {"code", "message"}
    assert error["error"]["code"] == code
    assert table_counts(engine) == NOTHING


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "FILE_EMPTY"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "FILE_XLS_UNSUPPORTED"),
        ("行政相对人名称,处罚决定日期\n王建国,2023/05/01\n".encode(), "FILE_MISSING_COLUMNS"),
    ],
)
def test_ingest_exits_2_on_a_refused_file(
    cli: None, engine: Engine, tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "处罚.csv"
    path.write_bytes(content)
    result = ingest(path)
    assert result.exit_code == 2, result.output
    error = receipt_of(result)
    assert set(error) == {"error"}
    assert set(error["error"]) == {"code", "message"}
    assert error["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["error"]["message"])
    assert table_counts(engine) == NOTHING


def test_ingest_of_a_missing_file_exits_2(cli: None, tmp_path: Path) -> None:
    result = ingest(tmp_path / "没有这个文件.csv")
    assert result.exit_code == 2
    assert receipt_of(result)["error"]["code"] == "FILE_NOT_FOUND"


def test_ingest_without_json_prints_a_readable_receipt(cli: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "处罚.csv", mixed_rows())
    result = xinyong("ingest", path, "-d", "XZCF", "--dept", SAMR.uscc)
    assert result.exit_code == 1
    assert "归集回执" in result.stdout
    assert "DATE_INVALID" in result.stdout
    refused = xinyong("ingest", path, "-d", "XZCF", "--dept", NDRC.uscc)
    assert refused.exit_code == 2
    assert "DEPT_DATASET_NOT_ALLOWED" in refused.stderr
    assert refused.stdout == ""


def test_dry_run_answers_and_stores_nothing(cli: None, engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "处罚.csv", mixed_rows())
    dry = ingest(path, "--dry-run")
    assert dry.exit_code == 1, dry.output
    receipt = receipt_of(dry)
    assert receipt["batch_id"] is None
    assert (receipt["new"], receipt["pending"], receipt["rejected"]) == (2, 1, 1)
    assert table_counts(engine) == NOTHING
    real = receipt_of(ingest(path))
    assert {k: v for k, v in real.items() if k != "batch_id"} == {
        k: v for k, v in receipt.items() if k != "batch_id"
    }


def test_rejects_file_from_the_command_line(cli: None, engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "处罚.csv", mixed_rows(), encoding="gbk")
    out = tmp_path / "处罚_被拒绝.csv"
    result = ingest(path, "--rejects", out)
    assert result.exit_code == 1
    (row,) = read_csv(out, "gb18030")
    assert row["行政处罚决定书文号"] == "濮市监罚决字〔2023〕00104号"
    assert "2023-02-30" in row["错误原因"]
    row["处罚决定日期"] = "2023-02-28"
    write_csv(out, [row], [*row], encoding="gbk")
    again = ingest(out)
    assert again.exit_code == 0, again.output
    receipt = receipt_of(again)
    assert (receipt["new"], receipt["rejected"]) == (1, 0)
    assert [w["code"] for w in receipt["warnings"]] == ["COLUMN_UNKNOWN"]


def test_mapping_from_the_command_line(cli: None, engine: Engine, tmp_path: Path) -> None:
    mapping = tmp_path / "映射.yaml"
    mapping.write_text(
        "dataset: XZCF\n"
        "headers:\n  被处罚单位名称: CF_XDR_MC\n"
        "constants:\n  CF_XDR_LB: 法人及非法人组织\n"
        "derive:\n  CF_NR_FK: {from: 罚款金额（元）, scale: 0.0001}\n",
        encoding="utf-8",
    )
    row = penalty(XINYUAN, "濮环罚〔2023〕7号", dept=ENV)
    row["被处罚单位名称"] = row.pop("行政相对人名称")
    row["罚款金额（元）"] = "20000"
    del row["行政相对人类别"], row["罚款金额（万元）"]
    path = write_csv(tmp_path / "导出.csv", [row], list(row))
    result = ingest(path, "--mapping", mapping, dept=ENV.uscc)
    assert result.exit_code == 0, result.output
    assert receipt_of(result)["new"] == 1
    data = record_by_wsh(engine, "濮环罚〔2023〕7号")["data"]
    assert (data["CF_XDR_MC"], data["CF_XDR_LB"], data["CF_NR_FK"]) == (
        XINYUAN.name,
        "法人及非法人组织",
        "2",
    )
    broken = tmp_path / "坏.yaml"
    broken.write_text("headers: [\n", encoding="utf-8")
    refused = ingest(path, "--mapping", broken, dept=ENV.uscc)
    assert refused.exit_code == 2
    assert receipt_of(refused)["error"]["code"] == "MAPPING_INVALID"


# -- batches ---------------------------------------------------------------------------------


def test_batches_and_batch_show(cli: None, tmp_path: Path) -> None:
    first = receipt_of(ingest(write_csv(tmp_path / "a.csv", mixed_rows())))
    second = receipt_of(ingest(write_csv(tmp_path / "a.csv", mixed_rows())))
    assert second["unchanged"] == 3

    listed = xinyong("batches", "--json")
    assert listed.exit_code == 0
    batches = json.loads(listed.stdout)
    assert [b["id"] for b in batches] == [second["batch_id"], first["batch_id"]]
    assert batches[1]["file_name"] == "a.csv"
    assert (batches[1]["new"], batches[1]["rejected"]) == (2, 1)
    assert json.loads(xinyong("batches", "--json", "--dataset", "XZXK").stdout) == []

    shown = xinyong("batch", "show", str(first["batch_id"]), "--json")
    assert shown.exit_code == 0
    batch = json.loads(shown.stdout)
    assert batch["dept_uscc"] == SAMR.uscc
    assert batch["rejects"] == first["rejects"]
    text = xinyong("batch", "show", str(first["batch_id"]))
    assert text.exit_code == 0
    assert "DATE_INVALID" in text.stdout
    assert "a.csv" in text.stdout
    table = xinyong("batches")  # the table folds long cells to the terminal's width
    assert table.exit_code == 0
    assert "归集批次" in table.stdout

    missing = xinyong("batch", "show", "999")
    assert missing.exit_code != 0
    assert "BATCH_NOT_FOUND" in missing.stderr


# -- subjects --------------------------------------------------------------------------------


def test_subject_by_any_identifier(cli: None, tmp_path: Path) -> None:
    frjc = write_csv(
        tmp_path / "frjc.csv", [registration(XINYUAN, 曾用名="濮阳市华龙区鑫源商行")], FRJC_HEADERS
    )
    assert ingest(frjc, dataset="FRJC").exit_code == 0
    birth = date(1971, 4, 5)
    person = Citizen("韩建国", make_id("410923", birth, 87))
    rows = [penalty(XINYUAN), penalty(person, "濮市监罚决字〔2023〕00102号")]
    assert ingest(write_csv(tmp_path / "a.csv", rows)).exit_code == 0

    for code in (
        XINYUAN.uscc,
        XINYUAN.uscc.lower(),
        XINYUAN.org_code,
        f"{XINYUAN.org_code[:8]}-{XINYUAN.org_code[8]}",
        XINYUAN.reg_no,
    ):
        result = xinyong("subject", code, "--purpose", "日常监管", "--json")
        assert result.exit_code == 0, (code, result.output)
        shown = json.loads(result.stdout)
        assert shown["subject"]["uscc"] == XINYUAN.uscc
        assert {n["name"] for n in shown["subject"]["names"]} == {"濮阳市华龙区鑫源商行"}
        assert set(shown["records"]) == {"FRJC", "XZCF"}
    for code in (person.id_number, make_id15("410923", birth, 87)):
        result = xinyong("subject", code, "--purpose", "日常监管", "--json")
        assert result.exit_code == 0, (code, result.output)
        assert json.loads(result.stdout)["subject"]["id_number"] == person.id_number

    text = xinyong("subject", XINYUAN.uscc, "--purpose", "日常监管")
    assert text.exit_code == 0
    assert XINYUAN.name in text.stdout
    assert "曾用名" in text.stdout
    assert "行政处罚信息" in text.stdout


@pytest.mark.parametrize("code", [LONGDU.uscc, LONGDU.org_code, "410928199901011234", "无此代码"])
def test_subject_not_found_exits_1(cli: None, code: str) -> None:
    result = xinyong("subject", code, "--purpose", "日常监管")
    assert result.exit_code == 1, result.output
    assert "SUBJECT_NOT_FOUND" in result.stderr
    as_json = xinyong("subject", code, "--purpose", "日常监管", "--json")
    assert as_json.exit_code == 1
    assert receipt_of(as_json)["error"]["code"] == "SUBJECT_NOT_FOUND"


def test_pending_queue_and_link(cli: None, engine: Engine, tmp_path: Path) -> None:
    assert "没有待关联的记录" in xinyong("subjects", "pending").stdout
    ingest(write_csv(tmp_path / "a.csv", [penalty(HENGDA, "濮市监罚决字〔2023〕00100号")]))
    ingest(write_csv(tmp_path / "b.csv", good_rows()))

    listed = xinyong("subjects", "pending", "--json")
    assert listed.exit_code == 0
    (waiting,) = json.loads(listed.stdout)
    assert waiting["data"]["CF_WSH"] == "濮市监罚决字〔2023〕00103号"
    assert [c["uscc"] for c in waiting["candidates"]] == [HENGDA.uscc]
    table = xinyong("subjects", "pending")
    assert table.exit_code == 0
    assert "待关联记录" in table.stdout

    linked = xinyong("subjects", "link", str(waiting["id"]), HENGDA.uscc)
    assert linked.exit_code == 0, linked.output
    assert json.loads(xinyong("subjects", "pending", "--json").stdout) == []
    shown = json.loads(xinyong("subject", HENGDA.uscc, "--purpose", "日常监管", "--json").stdout)
    assert {r["data"]["CF_WSH"] for r in shown["records"]["XZCF"]} == {
        "濮市监罚决字〔2023〕00100号",
        "濮市监罚决字〔2023〕00103号",
    }
    again = xinyong("subjects", "link", str(waiting["id"]), HENGDA.uscc)
    assert again.exit_code == 2
    assert "RECORD_NOT_PENDING" in again.stderr
    wrong = xinyong("subjects", "link", str(waiting["id"]), HENGDA.uscc[:-1] + "0")
    assert wrong.exit_code == 2


# -- records ---------------------------------------------------------------------------------


def test_records_withdraw_and_show(cli: None, engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [penalty(XINYUAN)])
    ingest(path)
    corrected = penalty(XINYUAN, 处罚内容="罚款人民币8000元", **{"罚款金额（万元）": "0.8"})
    ingest(write_csv(tmp_path / "b.csv", [corrected]))
    record_id = str(record_by_wsh(engine, "濮市监罚决字〔2023〕00101号")["id"])

    shown = xinyong("records", "show", record_id, "--purpose", "执法检查", "--json")
    assert shown.exit_code == 0
    doc = json.loads(shown.stdout)
    assert doc["record"]["version"] == 2
    assert [v["data"]["CF_NR_FK"] for v in doc["history"]] == ["0.5"]
    text = xinyong("records", "show", record_id, "--purpose", "执法检查")
    assert "第 1 版" in text.stdout
    assert "0.5 → 0.8" in text.stdout

    other = xinyong("records", "withdraw", record_id, "--dept", ENV.uscc, "--reason", "误报")
    assert other.exit_code == 2
    assert "RECORD_NOT_OWNER" in other.stderr
    done = xinyong(
        "records", "withdraw", record_id, "--dept", SAMR.uscc, "--reason", "行政复议撤销原决定"
    )
    assert done.exit_code == 0, done.output
    record = record_by_wsh(engine, "濮市监罚决字〔2023〕00101号")
    assert (record["state"], record["withdrawn_reason"]) == (WITHDRAWN, "行政复议撤销原决定")
    assert (
        "行政复议撤销原决定"
        in xinyong("records", "show", record_id, "--purpose", "执法检查").stdout
    )

    missing = xinyong("records", "show", "999", "--purpose", "执法检查")
    assert missing.exit_code == 2
    assert "RECORD_NOT_FOUND" in missing.stderr


# -- code check, db upgrade, sample data -------------------------------------------------------


def test_code_check_exit_status(cli: None) -> None:
    assert xinyong("code", "check", XINYUAN.uscc, WANG.id_number).exit_code == 0
    assert xinyong("code", "check", XINYUAN.uscc, XINYUAN.uscc[:-1] + "0").exit_code == 1
    result = xinyong("code", "check", "--json", XINYUAN.org_code)
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["kind"] == "org_code"


def test_db_upgrade_builds_the_schema(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(settings, monkeypatch)
    reset_cli()
    try:
        result = xinyong("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert xinyong("db", "upgrade").exit_code == 0  # again: nothing to do
    finally:
        reset_cli()
    eng = make_engine(settings)
    try:
        tables = set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
    assert {"alembic_version", "batches", "records", "record_versions", "subjects"} <= tables


def test_sample_generate_and_load(cli: None, engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "sample"
    generated = xinyong("sample", "generate", "--output", folder, "--seed", "7")
    assert generated.exit_code == 0, generated.output
    files = sorted(p.name for p in folder.iterdir())
    assert "manifest.yaml" in files
    assert any(f.endswith(".xlsx") for f in files)
    assert any(f.endswith(".jsonl") for f in files)
    loaded = xinyong("sample", "load", folder)
    assert loaded.exit_code == 0, loaded.output
    batches = json.loads(xinyong("batches", "--json").stdout)
    # one delivery per file of the manifest (two each for 行政处罚 and 行政许可, one per
    # designating department for 严重失信主体名单), every dataset of the catalogue among them
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert len(batches) == len(manifest["deliveries"])
    assert {b["dataset"] for b in batches} == set(
        load_catalog(Path(__file__).resolve().parents[1] / "catalog").datasets
    )
    by_dataset: dict[str, int] = {}
    for b in batches:
        assert b["received"] == b["new"] + b["pending"] + b["rejected"]
        by_dataset[b["dataset"]] = by_dataset.get(b["dataset"], 0) + b["new"]
    assert by_dataset["FRJC"] == 2000
    assert sum(b["rejected"] for b in batches if b["dataset"] == "XZCF") > 0
    assert len(stored_records(engine)) == sum(b["new"] + b["pending"] for b in batches)
