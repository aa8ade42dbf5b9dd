"""The ingestion service end to end, on SQLite and PostgreSQL: receipts, rejections with row,
field, value, code and reason, files refused whole, idempotence, history, ownership,
withdrawal, atomicity and the rejects file a department fixes and resends."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import (
    COUNTY_SAMR,
    ENV,
    FRJC_HEADERS,
    HENGDA,
    LI,
    LONGDU,
    NDRC,
    NOTHING,
    SAMR,
    SHOP,
    TODAY,
    WANG,
    XINYUAN,
    Citizen,
    all_subjects,
    codes_by_row,
    has_chinese,
    make_id,
    make_id15,
    make_uscc,
    penalty,
    read_csv,
    record_by_wsh,
    registration,
    run,
    stored_records,
    table_counts,
    write_csv,
    write_jsonl,
    write_xlsx,
)
from fixtures.departments import register
from sqlalchemy import Engine

from xinyong.batches.service import get_batch, list_batches
from xinyong.catalog.loader import Catalog
from xinyong.catalog.templates import write_template
from xinyong.errors import CatalogError, Conflict, FileRefused, NotAllowed, XinyongError
from xinyong.ingest.service import DELIVERY_CACHE_KIB, IngestRequest, ingest
from xinyong.records import service as records
from xinyong.records.states import PUBLISHED, WITHDRAWN
from xinyong.sample.datasets import BAD_KINDS, PENALTY_HEADERS, SampleRow, penalty_rows
from xinyong.sample.files import write_csv as write_sample_csv
from xinyong.sample.files import write_jsonl as write_sample_jsonl
from xinyong.sample.files import write_xlsx as write_sample_xlsx
from xinyong.sample.world import World

# -- the sample world: rows of every bad kind --------------------------------------------------


def sample_rows() -> list[SampleRow]:
    """120 rows of the 市场监督管理局, 40% bad: seed 1 has every bad kind and pending rows."""
    world = World(1, organisations=50, persons=20)
    return list(
        penalty_rows(
            world, SAMR, 120, bad_share=0.4, pending_share=0.05, other_dept=ENV, today=TODAY
        )
    )


def test_the_sample_has_every_bad_kind() -> None:
    expected = {r.expect for r in sample_rows()}
    assert set(BAD_KINDS.values()) <= expected
    assert {None, "pending"} <= expected


def _write_sample(fmt: str, path: Path, rows: list[SampleRow]) -> tuple[Path, int]:
    """The file and the row number of its first data row."""
    if fmt == "csv-gbk":
        write_sample_csv(path.with_suffix(".csv"), PENALTY_HEADERS, rows, "gbk")
        return path.with_suffix(".csv"), 2
    if fmt == "xlsx":
        write_sample_xlsx(path.with_suffix(".xlsx"), PENALTY_HEADERS, rows)
        return path.with_suffix(".xlsx"), 2
    write_sample_jsonl(path.with_suffix(".jsonl"), rows)
    return path.with_suffix(".jsonl"), 1  # JSON lines: the row number is the line number


@pytest.mark.parametrize("fmt", ["csv-gbk", "xlsx", "jsonl"])
def test_every_bad_kind_is_rejected_with_its_code_and_good_rows_are_stored(
    engine: Engine, catalog: Catalog, tmp_path: Path, fmt: str
) -> None:
    rows = sample_rows()
    path, first = _write_sample(fmt, tmp_path / "行政处罚_市场监管局", rows)
    receipt = run(engine, catalog, path)

    got = codes_by_row(receipt)
    for n, row in enumerate(rows, start=first):
        if row.expect in (None, "pending"):
            assert n not in got, f"row {n} ({row.expect}) rejected: {got.get(n)}"
        else:
            assert got.get(n) == {row.expect}, f"row {n}: expected {row.expect}"
    good = sum(r.expect is None for r in rows)
    pending = sum(r.expect == "pending" for r in rows)
    bad = len(rows) - good - pending
    assert (receipt.received, receipt.new, receipt.pending, receipt.rejected) == (
        len(rows),
        good,
        pending,
        bad,
    )
    assert receipt.updated == receipt.unchanged == 0
    assert len(stored_records(engine)) == good + pending


def test_each_reject_names_row_field_value_code_and_a_chinese_reason(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号", 处罚决定日期="2023-02-30"),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        penalty(
            HENGDA,
            "濮市监罚决字〔2023〕00104号",
            **{
                "行政相对人代码_1(统一社会信用代码)": HENGDA.uscc[:-1] + "0",
                "罚款金额（万元）": "五千元",
            },
        ),
    ]
    path = write_csv(tmp_path / "处罚.csv", rows)
    receipt = run(engine, catalog, path)
    assert (receipt.received, receipt.new, receipt.rejected) == (4, 2, 2)
    assert len(receipt.rejects) == 3  # one entry per problem; row 5 has two
    by_code = {r["code"]: r for r in receipt.rejects}
    assert set(by_code) == {"DATE_INVALID", "USCC_CHECK", "DECIMAL_INVALID"}
    assert by_code["DATE_INVALID"] | {"message": ""} == {
        "row": 3,  # header = 1
        "field": "CF_JDRQ",
        "value": "2023-02-30",
        "code": "DATE_INVALID",
        "message": "",
    }
    assert by_code["USCC_CHECK"]["row"] == 5
    assert by_code["USCC_CHECK"]["field"] == "CF_XDR_SHXYM"
    assert by_code["USCC_CHECK"]["value"] == HENGDA.uscc[:-1] + "0"
    assert by_code["DECIMAL_INVALID"]["row"] == 5
    assert by_code["DECIMAL_INVALID"]["field"] == "CF_NR_FK"
    assert by_code["DECIMAL_INVALID"]["value"] == "五千元"
    for r in receipt.rejects:
        assert set(r) == {"row", "field", "value", "code", "message"}
        assert has_chinese(r["message"])

    # the batch keeps the same receipt
    with engine.connect() as conn:
        batch = get_batch(conn, receipt.batch_id)  # type: ignore[arg-type]
        listed = list_batches(conn, dataset="XZCF", dept_uscc=SAMR.uscc)
    assert batch["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert batch["dept_uscc"] == SAMR.uscc
    assert batch["file_name"] == "处罚.csv"
    assert batch["received_at"] is not None
    assert (batch["received"], batch["new"], batch["rejected"]) == (4, 2, 2)
    assert sorted(batch["rejects"], key=lambda r: (r["row"], r["code"])) == sorted(
        receipt.rejects, key=lambda r: (r["row"], r["code"])
    )
    assert [r["row_no"] for r in batch["reject_rows"]] == [3, 5]
    assert [b["id"] for b in listed] == [receipt.batch_id]


def test_a_rejected_row_never_stops_the_batch(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = []
    for i in range(10):
        bad = {"处罚决定日期": "2023年13月1日"} if i % 2 == 0 else {}
        rows.append(penalty(XINYUAN, f"濮市监罚决字〔2023〕{i + 200:05d}号", **bad))
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows), chunk_rows=3)
    assert (receipt.received, receipt.new, receipt.rejected) == (10, 5, 5)
    assert sorted(codes_by_row(receipt)) == [2, 4, 6, 8, 10]


# -- files refused whole ---------------------------------------------------------------------


def _good_file(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "处罚.csv", [penalty(XINYUAN), penalty(WANG, "濮市监罚决字〔2023〕00102号")]
    )


def _refusal_cases() -> list[Any]:
    def unknown_dataset(tmp: Path) -> tuple[Path, dict[str, Any]]:
        return _good_file(tmp), {"dataset": "XZCFX"}

    def unknown_dept(tmp: Path) -> tuple[Path, dict[str, Any]]:
        from xinyong.sample.datasets import Dept

        return _good_file(tmp), {"dept": Dept(make_uscc("11", "410902", "PY77770B"), "某局")}

    def dept_not_allowed(tmp: Path) -> tuple[Path, dict[str, Any]]:
        return _good_file(tmp), {"dept": NDRC}

    def missing_columns(tmp: Path) -> tuple[Path, dict[str, Any]]:
        headers = [h for h in PENALTY_HEADERS if h not in ("行政处罚决定书文号", "处罚决定日期")]
        return write_csv(tmp / "a.csv", [penalty(XINYUAN)], headers), {}

    def no_subject_name(tmp: Path) -> tuple[Path, dict[str, Any]]:
        headers = [h for h in PENALTY_HEADERS if h != "行政相对人名称"]
        return write_csv(tmp / "a.csv", [penalty(XINYUAN)], headers), {}

    def duplicate_columns(tmp: Path) -> tuple[Path, dict[str, Any]]:
        # the same item twice: by its name and by its code
        headers = [*PENALTY_HEADERS, "CF_WSH"]
        row = penalty(XINYUAN) | {"CF_WSH": "濮市监罚决字〔2023〕00999号"}
        return write_csv(tmp / "a.csv", [row], headers), {}

    def old_excel(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / "处罚.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
        return path, {}

    def empty(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / "处罚.csv"
        path.write_bytes(b"")
        return path, {}

    def not_a_table(tmp: Path) -> tuple[Path, dict[str, Any]]:
        path = tmp / "处罚.csv"
        path.write_bytes(b"%PDF-1.7\n1 0 obj\n")
        return path, {}

    def mixed_encoding(tmp: Path) -> tuple[Path, dict[str, Any]]:
        # 300 KiB of good UTF-8 rows, then a GBK row: refused while rows are already written
        path = tmp / "处罚.csv"
        long_facts = "当事人未按规定公示年度报告。" * 300
        rows = [
            penalty(XINYUAN, f"濮市监罚决字〔2023〕{i:05d}号", 违法事实=long_facts)
            for i in range(1, 31)
        ]
        write_csv(path, rows)
        with path.open("ab") as fh:
            fh.write(",".join(penalty(WANG, "濮市监罚决字〔2023〕00031号").values()).encode("gbk"))
        return path, {"chunk_rows": 5}

    cases = [
        (unknown_dataset, "DATASET_UNKNOWN"),
        (unknown_dept, "DEPT_UNKNOWN"),
        (dept_not_allowed, "DEPT_DATASET_NOT_ALLOWED"),
        (missing_columns, "FILE_MISSING_COLUMNS"),
        (no_subject_name, "FILE_MISSING_COLUMNS"),
        (duplicate_columns, "FILE_DUPLICATE_COLUMNS"),
        (old_excel, "FILE_XLS_UNSUPPORTED"),
        (empty, "FILE_EMPTY"),
        (not_a_table, "FILE_NOT_TABLE"),
        (mixed_encoding, "FILE_ENCODING"),
    ]
    return [pytest.param(make, code, id=make.__name__) for make, code in cases]


@pytest.mark.parametrize(("make", "code"), _refusal_cases())
def test_a_refused_file_stores_nothing(
    engine: Engine, catalog: Catalog, tmp_path: Path, make: Any, code: str
) -> None:
    path, options = make(tmp_path)
    rejects = tmp_path / "rejects.csv"
    with pytest.raises(XinyongError) as exc:
        run(engine, catalog, path, rejects_path=rejects, **options)
    assert exc.value.code == code
    assert has_chinese(exc.value.message)
    assert table_counts(engine) == NOTHING
    assert not rejects.exists()


def test_missing_columns_are_named(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    headers = [h for h in PENALTY_HEADERS if h not in ("行政处罚决定书文号", "处罚决定日期")]
    with pytest.raises(FileRefused) as exc:
        run(engine, catalog, write_csv(tmp_path / "a.csv", [penalty()], headers))
    assert "行政处罚决定书文号（CF_WSH）" in exc.value.message
    assert "处罚决定日期（CF_JDRQ）" in exc.value.message


def test_dept_not_allowed_names_what_it_may_submit(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    with pytest.raises(FileRefused) as exc:
        run(engine, catalog, _good_file(tmp_path), dept=NDRC)
    assert NDRC.name in exc.value.message
    assert "SXHMD" in exc.value.message


# -- dry run ---------------------------------------------------------------------------------


def test_dry_run_answers_in_full_and_stores_nothing(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = sample_rows()
    path = tmp_path / "a.csv"
    write_sample_csv(path, PENALTY_HEADERS, rows, "gbk")
    req = IngestRequest(path=path, dataset="XZCF", dept_uscc=SAMR.uscc, actor="测试", today=TODAY)
    with engine.connect() as conn:
        tx = conn.begin()
        dry = ingest(conn, catalog, req)
        tx.rollback()
    assert table_counts(engine) == NOTHING
    real = run(engine, catalog, path)
    assert (dry.received, dry.new, dry.pending, dry.rejected) == (
        real.received,
        real.new,
        real.pending,
        real.rejected,
    )
    assert dry.rejects == real.rejects


# -- rules of the 双公示 data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "cells", "code"),
    [
        (
            WANG,
            {"处罚类别": "警告", "处罚内容": "警告", "罚款金额（万元）": ""},
            "HN_SIMPLE_PROCEDURE",
        ),
        (WANG, {"处罚内容": "罚款人民币200元", "罚款金额（万元）": "0.02"}, "HN_SIMPLE_PROCEDURE"),
        (WANG, {"处罚内容": "罚款人民币50元", "罚款金额（万元）": "0.005"}, "HN_SIMPLE_PROCEDURE"),
        (
            WANG,
            {
                "处罚类别": "警告;罚款",
                "处罚内容": "警告，并处罚款100元",
                "罚款金额（万元）": "0.01",
            },
            "HN_SIMPLE_PROCEDURE",
        ),
        (WANG, {"处罚内容": "罚款人民币500元", "罚款金额（万元）": "0.05"}, None),
        (WANG, {"处罚内容": "罚款人民币201元", "罚款金额（万元）": "0.0201"}, None),
        (
            WANG,
            {
                "处罚类别": "罚款;没收违法所得",
                "处罚内容": "罚款人民币200元，没收违法所得1000元",
                "罚款金额（万元）": "0.02",
                "没收违法所得、没收非法财物的金额（万元）": "0.1",
            },
            None,
        ),
        (WANG, {"处罚类别": "行政拘留", "处罚内容": "行政拘留五日", "罚款金额（万元）": ""}, None),
        # not natural persons: the rule does not apply
        (XINYUAN, {"处罚类别": "警告", "处罚内容": "警告", "罚款金额（万元）": ""}, None),
        (SHOP, {"处罚内容": "罚款人民币100元", "罚款金额（万元）": "0.01"}, None),
    ],
)
def test_simple_procedure_penalties_on_persons_stay_off_the_platform(
    engine: Engine,
    catalog: Catalog,
    tmp_path: Path,
    subject: Any,
    cells: dict[str, str],
    code: str | None,
) -> None:
    path = write_csv(tmp_path / "a.csv", [penalty(subject, **cells)])
    receipt = run(engine, catalog, path)
    if code is None:
        assert (receipt.new, receipt.rejected) == (1, 0), receipt.rejects
    else:
        assert codes_by_row(receipt) == {2: {code}}
        (reject,) = receipt.rejects
        assert "第十三条" in reject["message"]
        assert stored_records(engine) == []


def test_source_department_must_be_the_sender(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号", 数据来源单位统一社会信用代码=ENV.uscc),
        # left empty: nothing to compare, the required check answers
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号", 数据来源单位统一社会信用代码=""),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows))
    assert codes_by_row(receipt) == {3: {"DEPT_MISMATCH"}, 4: {"FIELD_REQUIRED"}}
    mismatch = next(r for r in receipt.rejects if r["code"] == "DEPT_MISMATCH")
    assert mismatch["field"] == "CF_SJLYDM"
    assert mismatch["value"] == ENV.uscc


def test_enumerations_accept_code_and_label(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", 行政相对人类别="01"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号", 行政相对人类别="法人及非法人组织"),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号", 行政相对人类别="1"),  # Excel ate the 0
        penalty(WANG, "濮市监罚决字〔2023〕00104号", 行政相对人类别="02", 证件类型="01"),
        penalty(SHOP, "濮市监罚决字〔2023〕00105号", 行政相对人类别="个体工商户", 处罚类别="03"),
        penalty(LI, "濮市监罚决字〔2023〕00106号", 行政相对人类别="居民"),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows))
    assert codes_by_row(receipt) == {7: {"ENUM_INVALID"}}
    (bad,) = receipt.rejects
    assert "01 法人及非法人组织" in bad["message"]  # the allowed values are listed
    data = {r["data"]["CF_WSH"]: r["data"] for r in stored_records(engine)}
    assert [data[f"濮市监罚决字〔2023〕{n:05d}号"]["CF_XDR_LB"] for n in (101, 102, 103)] == [
        "法人及非法人组织"
    ] * 3
    assert data["濮市监罚决字〔2023〕00104号"]["CF_XDR_LB"] == "自然人"
    assert data["濮市监罚决字〔2023〕00104号"]["CF_XDR_ZJLX"] == "身份证"
    assert data["濮市监罚决字〔2023〕00105号"]["CF_CFLB"] == "罚款"


@pytest.mark.parametrize(
    "cell", ["警告;罚款", "警告、罚款", "警告；罚款", "警告,罚款", "01;03", "警告 / 罚款"]
)
def test_several_penalty_types_in_one_cell(
    engine: Engine, catalog: Catalog, tmp_path: Path, cell: str
) -> None:
    row = penalty(XINYUAN, 处罚类别=cell, 处罚内容="警告，并处罚款人民币5000元")
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", [row]))
    assert receipt.new == 1, receipt.rejects
    assert stored_records(engine)[0]["data"]["CF_CFLB"] == "警告;罚款"


def test_a_fine_among_several_types_requires_its_amount(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    row = penalty(XINYUAN, 处罚类别="警告、罚款", **{"罚款金额（万元）": ""})
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", [row]))
    assert codes_by_row(receipt) == {2: {"FIELD_REQUIRED_IF"}}
    assert receipt.rejects[0]["field"] == "CF_NR_FK"


def test_long_term_validity(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", 处罚有效期="2099/12/31"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号", 处罚有效期="2099年12月31日"),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows))
    assert receipt.new == 2, receipt.rejects
    assert {r["data"]["CF_YXQ"] for r in stored_records(engine)} == {"2099-12-31"}


def test_licences_with_long_term_validity(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    headers = [
        "行政相对人名称",
        "行政相对人类别",
        "行政相对人代码_1(统一社会信用代码)",
        "法定代表人",
        "行政许可决定文书名称",
        "行政许可决定文书号",
        "许可类别",
        "许可内容",
        "许可决定日期",
        "有效期自",
        "有效期至",
        "许可机关",
        "许可机关统一社会信用代码",
        "数据来源单位",
        "数据来源单位统一社会信用代码",
    ]
    row = {
        "行政相对人名称": XINYUAN.name,
        "行政相对人类别": "01",
        "行政相对人代码_1(统一社会信用代码)": XINYUAN.uscc,
        "法定代表人": XINYUAN.legal_rep,
        "行政许可决定文书名称": "食品经营许可决定书",
        "行政许可决定文书号": "濮市监许字〔2023〕00017号",
        "许可类别": "普通",
        "许可内容": "准予食品经营许可",
        "许可决定日期": "2023/05/01",
        "有效期自": "2023/05/01",
        "有效期至": "2099/12/31",
        "许可机关": SAMR.name,
        "许可机关统一社会信用代码": SAMR.uscc,
        "数据来源单位": SAMR.name,
        "数据来源单位统一社会信用代码": SAMR.uscc,
    }
    receipt = run(engine, catalog, write_csv(tmp_path / "许可.csv", [row], headers), "XZXK")
    assert receipt.new == 1, receipt.rejects
    assert record_by_wsh(engine, "濮市监许字〔2023〕00017号", "XZXK")["data"]["XK_YXQZI"] == (
        "2099-12-31"
    )


def test_a_15_digit_id_number_is_stored_as_18_digits(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    old = make_id15("410902", date(1968, 7, 9), 512)
    new = make_id("410902", date(1968, 7, 9), 512)
    person = Citizen("赵玉兰", old)
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", [penalty(person)]))
    assert receipt.new == 1, receipt.rejects
    (record,) = stored_records(engine)
    assert record["data"]["CF_XDR_ZJHM"] == new
    assert record["database"] == "自然人"
    (subject,) = all_subjects(engine)
    assert subject["id_number"] == new


@pytest.mark.parametrize(
    ("cells", "code", "field"),
    [
        (
            {"证件号码": WANG.id_number[:-1] + ("1" if WANG.id_number[-1] != "1" else "2")},
            "ID_CHECK",
            "CF_XDR_ZJHM",
        ),
        ({"行政相对人代码_3(组织机构代码)": HENGDA.org_code}, "ORG_CODE_MISMATCH", "CF_XDR_ZZJG"),
        ({"违法行为类型": "超" * 2001}, "FIELD_TOO_LONG", "CF_WFXW"),
        ({"处罚有效期": "2023/04/01"}, "DATE_ORDER", "CF_YXQ"),
        ({"处罚决定日期": "2027/01/05", "处罚有效期": "2028/01/05"}, "DATE_FUTURE", "CF_JDRQ"),
        ({"处罚依据": ""}, "FIELD_REQUIRED", "CF_YJ"),
    ],
)
def test_row_rules(
    engine: Engine,
    catalog: Catalog,
    tmp_path: Path,
    cells: dict[str, str],
    code: str,
    field: str,
) -> None:
    subject = WANG if "证件号码" in cells else XINYUAN
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", [penalty(subject, **cells)]))
    assert codes_by_row(receipt) == {2: {code}}
    assert receipt.rejects[0]["field"] == field


def test_cells_beyond_the_header_are_a_reject(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", [penalty(XINYUAN)])
    with path.open("a", encoding="utf-8", newline="") as fh:
        cells = list(penalty(HENGDA, "濮市监罚决字〔2023〕00102号").values())
        fh.write(",".join([*cells, "多出来的一格"]) + "\r\n")
    receipt = run(engine, catalog, path)
    assert codes_by_row(receipt) == {3: {"ROW_EXTRA_CELLS"}}
    assert receipt.rejects[0]["value"] == "多出来的一格"


def test_headers_by_item_code(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    names = {i.name: i.code for i in catalog.dataset("XZCF").items}
    codes = [names[h] for h in PENALTY_HEADERS]
    rows = [
        {names[k]: v for k, v in penalty(XINYUAN, "濮市监罚决字〔2023〕00101号").items()},
        {names[k]: v for k, v in penalty(WANG, "濮市监罚决字〔2023〕00102号").items()},
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows, codes))
    assert (receipt.new, receipt.rejected, receipt.warnings) == (2, 0, [])
    by_name = run(
        engine,
        catalog,
        write_csv(
            tmp_path / "b.csv",
            [
                penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
                penalty(WANG, "濮市监罚决字〔2023〕00102号"),
            ],
        ),
    )
    assert by_name.unchanged == 2  # the same facts under the other header form


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_templates_second_header_row_of_codes_is_skipped(
    engine: Engine, catalog: Catalog, tmp_path: Path, fmt: str
) -> None:
    dataset = catalog.dataset("XZCF")
    template = tmp_path / f"行政处罚模板.{fmt}"
    write_template(dataset, fmt, template)  # type: ignore[arg-type]
    names = {i.name: i.code for i in dataset.items}
    order = [i.code for i in dataset.items]
    rows = [
        {names[k]: v for k, v in penalty(XINYUAN, "濮市监罚决字〔2023〕00101号").items()},
        {
            names[k]: v
            for k, v in penalty(WANG, "濮市监罚决字〔2023〕00102号", 处罚决定日期="").items()
        },
    ]
    if fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(template)
        ws = wb["数据"]
        for row in rows:
            ws.append([row.get(code) or None for code in order])
        wb.save(template)
    else:
        import csv

        with template.open("a", encoding="utf-8-sig", newline="") as fh:
            for row in rows:
                csv.writer(fh).writerow([row.get(code, "") for code in order])
    receipt = run(engine, catalog, template)
    assert receipt.received == 2  # the code row is not a data row
    assert receipt.new == 1
    assert codes_by_row(receipt) == {4: {"FIELD_REQUIRED"}}  # data starts at row 3
    assert receipt.warnings == []


def test_json_lines_with_a_broken_line(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
            penalty(WANG, "濮市监罚决字〔2023〕00102号"),
        ],
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"行政相对人名称": "清丰县恒达建材有限公司", "行政\n')
        fh.write(
            json.dumps(penalty(LONGDU, "濮市监罚决字〔2023〕00103号"), ensure_ascii=False) + "\n"
        )
    receipt = run(engine, catalog, path)
    assert (receipt.received, receipt.new, receipt.rejected) == (4, 3, 1)
    assert codes_by_row(receipt) == {3: {"JSON_INVALID"}}


def test_json_lines_whose_first_object_omits_an_empty_required_item(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    # Exports drop keys whose value is empty: the first object lacking one is a bad row, not a
    # file without that column.
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            penalty(XINYUAN, "", 违法行为类型=""),
            penalty(WANG, "濮市监罚决字〔2023〕00102号"),
            penalty(HENGDA, "濮市监罚决字〔2023〕00103号"),
        ],
    )
    receipt = run(engine, catalog, path)
    assert (receipt.new, receipt.rejected) == (2, 1)
    assert codes_by_row(receipt) == {1: {"FIELD_REQUIRED"}}


# -- idempotence -------------------------------------------------------------------------------


def test_the_same_file_twice_changes_nothing(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = sample_rows()
    path = tmp_path / "a.csv"
    write_sample_csv(path, PENALTY_HEADERS, rows, "gbk")
    first = run(engine, catalog, path)
    before = table_counts(engine)
    stored = stored_records(engine)
    second = run(engine, catalog, path)
    assert second.received == first.received
    assert (second.new, second.updated, second.pending) == (0, 0, 0)
    assert second.unchanged == first.new + first.pending
    assert second.rejected == first.rejected
    after = table_counts(engine)
    assert after["records"] == before["records"]
    assert after["record_versions"] == before["record_versions"] == 0
    assert after["subjects"] == before["subjects"]
    assert after["batches"] == 2
    # unchanged records keep their first batch: the resend touched nothing
    assert [(r["id"], r["batch_id"], r["version"]) for r in stored_records(engine)] == [
        (r["id"], r["batch_id"], r["version"]) for r in stored
    ]


def test_rows_are_compared_by_their_normalised_values(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    first = [
        penalty(
            XINYUAN, "濮市监罚决字〔2023〕00101号", 处罚决定日期="2023/05/01", 行政相对人类别="01"
        ),
        penalty(WANG, "濮市监罚决字〔2023〕00102号", **{"罚款金额（万元）": "0.50"}),
        penalty(HENGDA, "濮市监罚决字〔2023〕00103号", 处罚类别="警告、罚款"),
    ]
    again = [
        penalty(
            XINYUAN,
            "濮市监罚决字〔2023〕00101号",
            处罚决定日期="2023-05-01",
            行政相对人类别="法人及非法人组织",
        ),
        penalty(WANG, "濮市监罚决字〔2023〕00102号", 处罚决定日期="2023年5月1日"),
        penalty(
            HENGDA, "濮市监罚决字〔2023〕00103号", 处罚类别="警告;罚款", 处罚决定日期="20230501"
        ),
    ]
    assert run(engine, catalog, write_csv(tmp_path / "a.csv", first, encoding="gbk")).new == 3
    receipt = run(engine, catalog, write_csv(tmp_path / "b.csv", again))
    assert (receipt.unchanged, receipt.updated, receipt.new) == (3, 0, 0)
    # and as an Excel file with real date cells
    for row in again:
        row["处罚决定日期"] = date(2023, 5, 1)  # type: ignore[assignment]
        row["处罚有效期"] = date(2024, 5, 1)  # type: ignore[assignment]
    receipt = run(engine, catalog, write_xlsx(tmp_path / "c.xlsx", again))
    assert (receipt.unchanged, receipt.updated, receipt.new) == (3, 0, 0)


def test_the_order_of_several_penalty_types_is_not_a_change(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(engine, catalog, write_csv(tmp_path / "a.csv", [penalty(XINYUAN, 处罚类别="警告;罚款")]))
    receipt = run(
        engine, catalog, write_csv(tmp_path / "b.csv", [penalty(XINYUAN, 处罚类别="罚款、警告")])
    )
    assert (receipt.unchanged, receipt.updated) == (1, 0)


def test_identical_repeats_of_a_key_are_one_row_and_conflicting_ones_are_all_rejected(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", **{"罚款金额（万元）": "0.8"}),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),  # identical to row 3
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),  # identical to row 5, same chunk
        # the same 文号 for another party of a joint decision is another record
        penalty(LONGDU, "濮市监罚决字〔2023〕00101号"),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows), chunk_rows=3)
    assert codes_by_row(receipt) == {2: {"KEY_CONFLICT_IN_FILE"}, 4: {"KEY_CONFLICT_IN_FILE"}}
    messages = {r["row"]: r["message"] for r in receipt.rejects}
    assert "第 4 行" in messages[2] and "第 2 行" in messages[4]
    warned = receipt.warnings
    repeated = {w["row"]: w["message"] for w in warned if w["code"] == "KEY_REPEATED_IN_FILE"}
    assert set(repeated) == {6, 7}
    assert "第 3 行" in repeated[6] and "第 5 行" in repeated[7]
    assert (receipt.new, receipt.unchanged, receipt.rejected) == (3, 2, 2)
    assert receipt.received == receipt.new + receipt.unchanged + receipt.rejected
    stored = [r["data"]["CF_XDR_MC"] for r in stored_records(engine)]
    assert sorted(stored) == sorted([HENGDA.name, LONGDU.name, LONGDU.name])


@pytest.mark.parametrize("org_first", [False, True])
def test_a_row_naming_only_the_org_code_links_to_the_uscc_subject_of_the_same_file(
    engine: Engine, catalog: Catalog, tmp_path: Path, org_first: bool
) -> None:
    by_uscc = penalty(XINYUAN, "濮市监罚决字〔2023〕00101号")
    by_org = penalty(
        XINYUAN,
        "濮市监罚决字〔2023〕00102号",
        **{
            "行政相对人代码_1(统一社会信用代码)": "",
            "行政相对人代码_3(组织机构代码)": XINYUAN.org_code,
        },
    )
    rows = [by_org, by_uscc] if org_first else [by_uscc, by_org]
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", rows))
    assert (receipt.new, receipt.pending, receipt.rejected) == (2, 0, 0)
    (subject,) = all_subjects(engine)
    assert (subject["uscc"], subject["org_code"]) == (XINYUAN.uscc, XINYUAN.org_code)
    assert {r["subject_id"] for r in stored_records(engine)} == {subject["id"]}


def test_a_conflict_spanning_chunks_rejects_every_row_of_the_key(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    wsh = "濮市监罚决字〔2023〕00101号"
    rows = [
        penalty(XINYUAN, wsh),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),
        penalty(XINYUAN, wsh),  # an identical repeat in the first chunk
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        penalty(XINYUAN, wsh, **{"罚款金额（万元）": "0.8"}),  # differs, in the second chunk
        penalty(XINYUAN, wsh),  # and in the third
    ]
    path = write_csv(tmp_path / "a.csv", rows)
    receipt = run(engine, catalog, path, chunk_rows=2)
    assert codes_by_row(receipt) == {n: {"KEY_CONFLICT_IN_FILE"} for n in (2, 4, 6, 7)}
    messages = {r["row"]: r["message"] for r in receipt.rejects}
    assert "第 4、6、7 行" in messages[2]
    assert (receipt.new, receipt.unchanged, receipt.rejected) == (2, 0, 4)
    assert not [r for r in stored_records(engine) if r["data"]["CF_WSH"] == wsh]
    counts = table_counts(engine)
    assert (counts["records"], counts["batches"]) == (2, 1)


def test_resending_a_file_or_its_rejects_file_changes_nothing_after_the_first(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """Real lists repeat a key with other content: resending must never flip records."""
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", **{"罚款金额（万元）": "0.8"}),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        penalty(WANG, "濮市监罚决字〔2023〕00104号", 处罚决定日期="2023-13-01"),
    ]
    original = write_csv(tmp_path / "a.csv", rows)
    rejects = tmp_path / "a_rejects.csv"
    first = run(engine, catalog, original, rejects_path=rejects, chunk_rows=2)
    assert first.rejected == 3 and first.new == 2
    assert len(read_csv(rejects, "utf-8")) == 3

    def state() -> tuple[Any, ...]:
        counts = table_counts(engine)
        recs = sorted(
            (r["natural_key"], r["version"], r["content_hash"]) for r in stored_records(engine)
        )
        return counts["records"], counts["record_versions"], counts["subjects"], recs

    before = state()
    again = run(engine, catalog, rejects, rejects_path=tmp_path / "b_rejects.csv", chunk_rows=2)
    assert (again.new, again.updated, again.rejected) == (0, 0, 3)
    assert state() == before
    once_more = run(engine, catalog, original, chunk_rows=2)
    assert (once_more.new, once_more.updated, once_more.unchanged) == (0, 0, 3)
    assert state() == before
    last = run(engine, catalog, tmp_path / "b_rejects.csv")
    assert (last.new, last.updated) == (0, 0)
    assert state() == before


# -- history ---------------------------------------------------------------------------------


def test_a_changed_row_is_a_new_version_and_the_old_one_stays_in_history(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    wsh = "濮市监罚决字〔2023〕00101号"
    v1 = run(engine, catalog, write_csv(tmp_path / "v1.csv", [penalty(XINYUAN, wsh)]))
    corrected = penalty(XINYUAN, wsh, 处罚内容="罚款人民币8000元", **{"罚款金额（万元）": "0.8"})
    v2 = run(engine, catalog, write_csv(tmp_path / "v2.csv", [corrected]))
    assert (v2.updated, v2.new, v2.unchanged) == (1, 0, 0)
    record = record_by_wsh(engine, wsh)
    assert record["version"] == 2
    assert record["data"]["CF_NR_FK"] == "0.8"
    assert record["batch_id"] == v2.batch_id
    with engine.connect() as conn:
        (old,) = records.history(conn, record["id"])
    assert old["version"] == 1
    assert old["data"]["CF_NR_FK"] == "0.5"
    assert old["data"]["CF_NR"] == "罚款人民币5000元"
    assert old["batch_id"] == v1.batch_id
    assert old["superseded_by_batch"] == v2.batch_id
    assert old["change"] == "更正"
    with engine.connect() as conn:
        assert records.original_of(conn, old) == penalty(XINYUAN, wsh)  # the row as sent
    assert old["state"] == PUBLISHED

    # back to the first content: a third version, nothing overwritten, nothing deleted
    v3 = run(engine, catalog, write_csv(tmp_path / "v3.csv", [penalty(XINYUAN, wsh)]))
    assert v3.updated == 1
    with engine.connect() as conn:
        versions = records.history(conn, record["id"])
    assert [(v["version"], v["data"]["CF_NR_FK"]) for v in versions] == [(1, "0.5"), (2, "0.8")]
    assert len(stored_records(engine)) == 1


def test_another_department_cannot_create_a_version_of_a_record_it_does_not_own(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    wsh = "濮市监罚决字〔2023〕00101号"
    run(engine, catalog, write_csv(tmp_path / "a.csv", [penalty(XINYUAN, wsh)]))
    # 生态环境局 forwards the 市场监督管理局's decision with another amount
    forwarded = penalty(
        XINYUAN,
        wsh,
        数据来源单位=ENV.name,
        数据来源单位统一社会信用代码=ENV.uscc,
        **{"罚款金额（万元）": "0.8"},
    )
    receipt = run(engine, catalog, write_csv(tmp_path / "b.csv", [forwarded]), dept=ENV)
    assert codes_by_row(receipt) == {2: {"RECORD_NOT_OWNER"}}
    assert SAMR.uscc in receipt.rejects[0]["message"]
    record = record_by_wsh(engine, wsh)
    assert (record["version"], record["dept_uscc"], record["data"]["CF_NR_FK"]) == (
        1,
        SAMR.uscc,
        "0.5",
    )


def test_a_newly_registered_department_cannot_correct_anothers_record(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    district = make_uscc("11", "410902", "PY00170D")
    register(engine, catalog, district, "濮阳市华龙区市场监督管理局", ["XZCF"], "410902")
    wsh = "濮市监罚决字〔2023〕00101号"
    run(engine, catalog, write_csv(tmp_path / "a.csv", [penalty(XINYUAN, wsh)]))
    from xinyong.sample.datasets import Dept

    dept = Dept(district, "濮阳市华龙区市场监督管理局")
    row = penalty(
        XINYUAN,
        wsh,
        数据来源单位=dept.name,
        数据来源单位统一社会信用代码=dept.uscc,
        处罚内容="罚款",
    )
    receipt = run(engine, catalog, write_csv(tmp_path / "b.csv", [row]), dept=dept)
    assert codes_by_row(receipt) == {2: {"RECORD_NOT_OWNER"}}
    # its own decisions it may send
    own = penalty(HENGDA, "濮华市监罚决字〔2023〕00001号", dept=dept)
    assert run(engine, catalog, write_csv(tmp_path / "c.csv", [own]), dept=dept).new == 1


def test_a_county_cannot_overwrite_the_citys_registration_record(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(
        engine,
        catalog,
        write_csv(tmp_path / "a.csv", [registration(XINYUAN)], FRJC_HEADERS),
        "FRJC",
    )
    county = registration(XINYUAN, COUNTY_SAMR, 登记状态="吊销")
    receipt = run(
        engine, catalog, write_csv(tmp_path / "b.csv", [county], FRJC_HEADERS), "FRJC", COUNTY_SAMR
    )
    assert codes_by_row(receipt) == {2: {"RECORD_NOT_OWNER"}}
    (record,) = stored_records(engine, "FRJC")
    assert record["data"]["DJ_DJZT"] == "存续"


def test_withdrawal(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    wsh = "濮市监罚决字〔2023〕00101号"
    path = write_csv(tmp_path / "a.csv", [penalty(XINYUAN, wsh)])
    run(engine, catalog, path)
    record_id = record_by_wsh(engine, wsh)["id"]

    with engine.begin() as conn, pytest.raises(NotAllowed) as exc:
        records.withdraw(conn, record_id, dept_uscc=ENV.uscc, reason="误报", actor="环保局")
    assert exc.value.code == "RECORD_NOT_OWNER"
    with engine.begin() as conn, pytest.raises(XinyongError) as exc:
        records.withdraw(conn, record_id, dept_uscc=SAMR.uscc, reason="  ", actor="市场监管局")
    assert exc.value.code == "REASON_REQUIRED"
    assert record_by_wsh(engine, wsh)["state"] == PUBLISHED

    with engine.begin() as conn:
        records.withdraw(
            conn,
            record_id,
            dept_uscc=SAMR.uscc,
            reason="行政复议决定撤销原处罚决定",
            actor="市场监管局张敏",
        )
    record = record_by_wsh(engine, wsh)  # kept
    assert record["state"] == WITHDRAWN
    assert record["withdrawn_reason"] == "行政复议决定撤销原处罚决定"
    assert record["withdrawn_by"] == "市场监管局张敏"
    assert record["withdrawn_at"] is not None
    assert record["data"] == record_by_wsh(engine, wsh)["data"]

    with engine.begin() as conn, pytest.raises(Conflict) as exc:
        records.withdraw(conn, record_id, dept_uscc=SAMR.uscc, reason="再撤一次", actor="x")
    assert exc.value.code == "RECORD_ALREADY_WITHDRAWN"

    # the same file again changes nothing, and does not bring the record back
    assert run(engine, catalog, path).unchanged == 1
    assert record_by_wsh(engine, wsh)["state"] == WITHDRAWN
    # a correction of a withdrawn record is refused
    changed = penalty(XINYUAN, wsh, **{"罚款金额（万元）": "0.8"})
    receipt = run(engine, catalog, write_csv(tmp_path / "b.csv", [changed]))
    assert codes_by_row(receipt) == {2: {"RECORD_WITHDRAWN"}}
    record = record_by_wsh(engine, wsh)
    assert (record["state"], record["version"], record["data"]["CF_NR_FK"]) == (
        WITHDRAWN,
        1,
        "0.5",
    )


# -- atomicity -------------------------------------------------------------------------------


class Crash(Exception):
    pass


def test_a_batch_that_fails_midway_leaves_nothing_and_a_rerun_completes_it(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = sample_rows()[:20]
    path = tmp_path / "a.csv"
    write_sample_csv(path, PENALTY_HEADERS, rows, "gbk")
    rejects = tmp_path / "rejects.csv"
    req = IngestRequest(
        path=path,
        dataset="XZCF",
        dept_uscc=SAMR.uscc,
        actor="测试",
        today=TODAY,
        chunk_rows=3,
        rejects_path=rejects,
    )
    chunks: list[int] = []

    def crash_after_first_chunk(n: int) -> None:
        chunks.append(n)
        if len(chunks) == 2:  # the first chunk is written; fail during the second
            raise Crash

    with pytest.raises(Crash), engine.begin() as conn:
        ingest(conn, catalog, req, progress=crash_after_first_chunk)
    assert len(chunks) == 2
    assert table_counts(engine) == NOTHING
    assert not rejects.exists()  # no half-written rejects file either

    with engine.begin() as conn:
        receipt = ingest(conn, catalog, req)
    assert receipt.received == 20
    assert receipt.new + receipt.pending + receipt.rejected == 20
    assert len(stored_records(engine)) == receipt.new + receipt.pending
    assert table_counts(engine)["batches"] == 1
    assert rejects.exists() == bool(receipt.rejected)


# -- the rejects file --------------------------------------------------------------------------


def _mixed_rows() -> list[dict[str, str]]:
    return [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号", 处罚决定日期="2023-02-30"),
        penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        penalty(
            WANG,
            "濮市监罚决字〔2023〕00104号",
            处罚类别="罚金",
            **{"罚款金额（万元）": "-1"},
        ),
        penalty(SHOP, "濮市监罚决字〔2023〕00105号"),
    ]


def _fix(row: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(row)
    if fixed["处罚决定日期"] == "2023-02-30":
        fixed["处罚决定日期"] = "2023-02-28"
    if fixed["处罚类别"] == "罚金":
        fixed["处罚类别"] = "罚款"
        fixed["罚款金额（万元）"] = "0.1"
    return fixed


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_rejects_file_in_the_inputs_encoding_can_be_fixed_and_resent(
    engine: Engine, catalog: Catalog, tmp_path: Path, encoding: str
) -> None:
    path = write_csv(tmp_path / "处罚.csv", _mixed_rows(), encoding=encoding)
    out = tmp_path / "处罚_被拒绝.csv"
    receipt = run(engine, catalog, path, rejects_path=out)
    assert receipt.rejected == 2

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    if encoding == "gbk":
        raw.decode("gbk")  # the department's tools open it as they opened their own file
    rejected = read_csv(out, "gb18030" if encoding == "gbk" else "utf-8-sig")
    assert list(rejected[0]) == [*PENALTY_HEADERS, "错误原因"]
    assert [r["行政处罚决定书文号"] for r in rejected] == [
        "濮市监罚决字〔2023〕00102号",
        "濮市监罚决字〔2023〕00104号",
    ]
    assert "处罚决定日期" in rejected[0]["错误原因"]
    assert "2023-02-30" in rejected[0]["错误原因"]
    assert "处罚类别" in rejected[1]["错误原因"]
    assert "罚款金额" in rejected[1]["错误原因"]
    for got, sent in zip(rejected, [_mixed_rows()[1], _mixed_rows()[3]], strict=True):
        assert {k: v for k, v in got.items() if k != "错误原因"} == sent

    # fix the two rows in the rejects file itself and send it back
    fixed = [_fix(r) for r in rejected]
    write_csv(out, fixed, [*PENALTY_HEADERS, "错误原因"], encoding=encoding)
    again = run(engine, catalog, out)
    assert (again.received, again.new, again.rejected) == (2, 2, 0)
    (warning,) = again.warnings
    assert warning["code"] == "COLUMN_UNKNOWN"
    assert "错误原因" in warning["message"]
    assert len(stored_records(engine)) == 5


def test_xlsx_rejects_file(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write_xlsx(tmp_path / "处罚.xlsx", _mixed_rows())
    out = tmp_path / "被拒绝.xlsx"
    receipt = run(engine, catalog, path, rejects_path=out)
    assert receipt.rejected == 2
    ws = load_workbook(out, read_only=True)["数据"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == [*PENALTY_HEADERS, "错误原因"]
    assert [r[PENALTY_HEADERS.index("行政处罚决定书文号")] for r in values[1:]] == [
        "濮市监罚决字〔2023〕00102号",
        "濮市监罚决字〔2023〕00104号",
    ]
    assert all(r[-1] for r in values[1:])

    fixed = [_fix(dict(zip(values[0], r, strict=False))) for r in values[1:]]
    write_xlsx(out, fixed, [*PENALTY_HEADERS, "错误原因"])
    again = run(engine, catalog, out)
    assert (again.new, again.rejected) == (2, 0)
    assert [w["code"] for w in again.warnings] == ["COLUMN_UNKNOWN"]


def test_jsonl_rejects_file(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "处罚.jsonl", _mixed_rows())
    with path.open("a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    out = tmp_path / "被拒绝.jsonl"
    receipt = run(engine, catalog, path, rejects_path=out)
    assert receipt.rejected == 3
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [x.get("行政处罚决定书文号") for x in lines] == [
        "濮市监罚决字〔2023〕00102号",
        "濮市监罚决字〔2023〕00104号",
        None,
    ]
    assert all(x["错误原因"] for x in lines)
    assert "JSON" in lines[2]["错误原因"]

    fixed = [_fix({k: v for k, v in x.items()}) for x in lines[:2]]
    out.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in fixed), encoding="utf-8"
    )
    again = run(engine, catalog, out)
    assert (again.new, again.rejected) == (2, 0)
    assert [w["code"] for w in again.warnings] == ["COLUMN_UNKNOWN"]


def test_no_rejects_file_when_nothing_is_rejected_is_still_a_valid_file(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "被拒绝.csv"
    receipt = run(engine, catalog, _good_file(tmp_path), rejects_path=out)
    assert receipt.rejected == 0
    assert read_csv(out, "utf-8-sig") == []


def test_refusal_of_an_unknown_dataset_is_a_catalogue_error(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    with pytest.raises(CatalogError) as exc:
        run(engine, catalog, _good_file(tmp_path), dataset="行政处罚")
    assert "XZCF（行政处罚信息）" in exc.value.message
    # by name it is found
    assert run(engine, catalog, _good_file(tmp_path), dataset="行政处罚信息").new == 2


# -- memory ------------------------------------------------------------------------------------


def test_a_delivery_keeps_a_smaller_page_cache_and_gives_it_back(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """SQLite: a delivery's one transaction fills the page cache with its dirty pages, so the
    batch runs with DELIVERY_CACHE_KIB (a million rows under 500 MB) and the connection, which
    goes back to the pool for the portal's reads, gets the platform's cache back after, even
    when the file is refused."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite connection's page cache")
    rows = [penalty(XINYUAN, f"濮市监罚决字〔2023〕{i + 300:05d}号") for i in range(4)]
    path = write_csv(tmp_path / "a.csv", rows)
    seen: list[int] = []
    with engine.begin() as conn:

        def size() -> int:
            return int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

        before = size()
        assert -before > DELIVERY_CACHE_KIB  # the platform's own, in KiB
        req = IngestRequest(
            path=path, dataset="XZCF", dept_uscc=SAMR.uscc, actor="测试", today=TODAY
        )
        receipt = ingest(conn, catalog, req, progress=lambda _read: seen.append(size()))
        assert receipt.new == 4
        assert seen == [-DELIVERY_CACHE_KIB]
        assert size() == before
        bare = tmp_path / "缺列.csv"
        bare.write_text("行政处罚决定书文号\n濮市监罚决字〔2023〕00400号\n", encoding="utf-8")
        refused = IngestRequest(
            path=bare, dataset="XZCF", dept_uscc=SAMR.uscc, actor="测试", today=TODAY
        )
        with pytest.raises(FileRefused):  # refused once its header is read: the cache was set
            ingest(conn, catalog, refused)
        assert size() == before
