"""Stored records read back: a subject's records, versions, and the clerk's actions on pending
records when they go wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.deliveries import (
    HENGDA,
    LONGDU,
    SAMR,
    WANG,
    XINYUAN,
    all_subjects,
    penalty,
    record_by_wsh,
    run,
    stored_records,
    write_csv,
)
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.errors import Conflict, NotFound, XinyongError
from xinyong.records import service as records
from xinyong.subjects.service import find_subject

USCC = "行政相对人代码_1(统一社会信用代码)"


def test_a_subjects_records_newest_decision_first(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2021〕00011号", 处罚决定日期="2021/03/02"),
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", 处罚决定日期="2023/05/01"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),
        penalty(XINYUAN, "濮市监罚决字〔2022〕00051号", 处罚决定日期="2022/08/19"),
    ]
    run(engine, catalog, write_csv(tmp_path / "a.csv", rows))
    with engine.connect() as conn:
        subject = find_subject(conn, XINYUAN.uscc)
        mine = records.records_of_subject(conn, subject["id"])
    assert [r["data"]["CF_WSH"] for r in mine] == [
        "濮市监罚决字〔2023〕00101号",
        "濮市监罚决字〔2022〕00051号",
        "濮市监罚决字〔2021〕00011号",
    ]
    assert {str(r["decision_date"]) for r in mine} == {"2023-05-01", "2022-08-19", "2021-03-02"}
    assert {r["dept_uscc"] for r in mine} == {SAMR.uscc}


def test_a_stored_record_keeps_the_row_as_received(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    row = penalty(XINYUAN, 处罚决定日期="2023年5月1日", 行政相对人类别="01")
    receipt = run(engine, catalog, write_csv(tmp_path / "a.csv", [row]))
    record = record_by_wsh(engine, row["行政处罚决定书文号"])
    with engine.connect() as conn:
        assert records.original_of(conn, record) == row  # every cell as the department wrote it
    assert record["data"]["CF_JDRQ"] == "2023-05-01"  # normalised
    assert record["data"]["CF_XDR_LB"] == "法人及非法人组织"
    assert (record["batch_id"], record["row_no"], record["version"]) == (receipt.batch_id, 2, 1)


def test_unknown_records_are_not_found(engine: Engine) -> None:
    with engine.connect() as conn:
        for call in (records.get_record, records.history):
            with pytest.raises(NotFound) as exc:
                call(conn, 404)
            assert exc.value.code == "RECORD_NOT_FOUND"


def _pending(engine: Engine, catalog: Catalog, tmp_path: Path, row: dict) -> int:
    receipt = run(engine, catalog, write_csv(tmp_path / "pending.csv", [row]))
    assert receipt.pending == 1
    (record,) = [r for r in stored_records(engine) if r["subject_id"] is None]
    return int(record["id"])


def test_linking_wrongly_is_refused(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    org = _pending(engine, catalog, tmp_path, penalty(LONGDU, **{USCC: ""}))
    with engine.begin() as conn:
        for code, error in [
            (LONGDU.uscc[:-1] + ("0" if LONGDU.uscc[-1] != "0" else "1"), "USCC_CHECK"),
            (WANG.id_number, "CODE_KIND_MISMATCH"),  # an organisation is not linked to a person
            ("龙都石油机械", "CODE_UNKNOWN"),
        ]:
            with pytest.raises(XinyongError) as exc:
                records.link_pending(conn, catalog, org, code, actor="信用办")
            assert exc.value.code == error, code
        records.link_pending(conn, catalog, org, LONGDU.uscc, actor="信用办")
    with engine.begin() as conn, pytest.raises(Conflict) as exc:
        records.link_pending(conn, catalog, org, LONGDU.uscc, actor="信用办")
    assert exc.value.code == "RECORD_NOT_PENDING"


def test_a_person_without_an_id_number_waits_and_is_linked_by_id_number(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    person = _pending(engine, catalog, tmp_path, penalty(WANG, 证件号码="", 证件类型=""))
    with engine.begin() as conn:
        with pytest.raises(XinyongError) as exc:
            records.link_pending(conn, catalog, person, XINYUAN.uscc, actor="信用办")
        assert exc.value.code == "CODE_KIND_MISMATCH"
        linked = records.link_pending(conn, catalog, person, WANG.id_number, actor="信用办")
    (subject,) = all_subjects(engine)
    assert (subject["id_number"], subject["name"], subject["database"]) == (
        WANG.id_number,
        WANG.name,
        "自然人",
    )
    assert (linked["subject_id"], linked["database"]) == (subject["id"], "自然人")


def test_linking_onto_a_key_already_taken_is_a_conflict(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    wsh = "濮市监罚决字〔2023〕00101号"
    pending_id = _pending(engine, catalog, tmp_path, penalty(XINYUAN, wsh, **{USCC: ""}))
    # the department then sends the same decision with the code: a second record
    run(engine, catalog, write_csv(tmp_path / "b.csv", [penalty(XINYUAN, wsh)]))
    with engine.begin() as conn, pytest.raises(Conflict) as exc:
        records.link_pending(conn, catalog, pending_id, XINYUAN.uscc, actor="信用办")
    assert exc.value.code == "RECORD_KEY_TAKEN"
    assert len(all_subjects(engine)) == 1
