"""The mapping file on real published penalty records (银保监会 行政处罚信息公开表, 2021–2022).

The export is not the 双公示 template: no subject codes, no 处罚类别, amounts written inside
the decision text (罚款30万元, 罚款人民币二十二万元, 处9万元罚款 …), dates with stray spaces.
The mapping in tests/fixtures/mappings/cbirc_xzcf.yaml reads it; every row is accounted for.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from fixtures.departments import register
from sqlalchemy import Engine, func, select

from xinyong.catalog.loader import Catalog
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.records import service as records
from xinyong.records.models import records as records_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CBIRC_CSV = FIXTURES / "real-sgs/cbirc-xzcf-2021-2022/cbirc_xzcf_legal_persons_2021-2022.csv"
CBIRC_XLSX = CBIRC_CSV.with_suffix(".xlsx")
MAPPING = FIXTURES / "mappings/cbirc_xzcf.yaml"
DEPT = "11410900PY90000105"  # synthetic code of the test department named in the mapping


@pytest.fixture
def cbirc_catalog(engine: Engine, catalog: Catalog) -> Catalog:
    register(engine, catalog, DEPT, "国家金融监督管理总局濮阳监管分局（测试）", ["XZCF"])
    return catalog


def _run(engine: Engine, catalog, path: Path):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return ingest(
            conn,
            catalog,
            IngestRequest(
                path=path, dataset="XZCF", dept_uscc=DEPT, actor="test", mapping_path=MAPPING
            ),
        )


def test_every_real_row_is_accepted_pending_or_rejected_with_a_reason(
    engine: Engine, cbirc_catalog
) -> None:  # type: ignore[no-untyped-def]
    receipt = _run(engine, cbirc_catalog, CBIRC_CSV)
    assert receipt.received == 3703
    # No row carries a subject code: every good row waits for a clerk to link it.
    assert (receipt.new, receipt.pending, receipt.rejected) == (0, 3079, 619)
    # six rows repeat a decision on the same party: five exactly (one row each, counted
    # unchanged with a warning), one with other content (both rows rejected, neither stored)
    assert receipt.unchanged == 5
    repeated = [w for w in receipt.warnings if w["code"] == "KEY_REPEATED_IN_FILE"]
    assert len(repeated) == 5
    assert receipt.new + receipt.pending + receipt.unchanged + receipt.rejected == receipt.received
    reasons = Counter((e["field"], e["code"]) for e in receipt.rejects)
    assert reasons == {
        # branches (分行/支行) published without their head's name: the template requires one
        ("CF_FRDB", "FIELD_REQUIRED_IF"): 510,
        ("CF_CFJG", "FIELD_REQUIRED"): 324,  # 作出处罚决定的机关名称 empty in the source
        ("CF_SY", "FIELD_REQUIRED"): 215,  # 主要违法违规事实 empty
        ("CF_NR", "FIELD_REQUIRED"): 65,
        ("CF_YJ", "FIELD_REQUIRED"): 51,
        ("CF_JDRQ", "FIELD_REQUIRED"): 12,  # no decision date
        ("CF_JDRQ", "DATE_FORMAT"): 1,  # '2021年2月2日2021年2月2日'
        ("CF_WSH", "FIELD_REQUIRED"): 6,
        (None, "KEY_CONFLICT_IN_FILE"): 2,  # one decision on one party, sent twice, differing
        ("CF_NR_ZKDX", "FIELD_REQUIRED_IF"): 6,  # 吊销 without the licence named
        # fines whose amount is given only as a multiple of the illegal gains
        ("CF_NR_FK", "FIELD_REQUIRED_IF"): 3,
    }
    assert all(e["message"] for e in receipt.rejects)
    unknown = [w for w in receipt.warnings if w["code"] == "COLUMN_UNKNOWN"]
    assert unknown and "链接" in unknown[0]["message"]


def test_amounts_types_and_dates_are_read_from_the_decision_text(
    engine: Engine, cbirc_catalog
) -> None:  # type: ignore[no-untyped-def]
    _run(engine, cbirc_catalog, CBIRC_CSV)
    with engine.connect() as conn:
        rows = {
            r.data["CF_WSH"] + "|" + r.data["CF_XDR_MC"]: r.data
            for r in conn.execute(select(records_table.c.data))
        }
    cmb = rows["银保监罚决字〔2022〕48号|招商银行股份有限公司"]
    assert cmb["CF_NR_FK"] == "460"  # 罚款460万元
    assert cmb["CF_CFLB"] == "罚款"
    assert cmb["CF_JDRQ"] == "2022-09-09"  # 2022年9月9日
    by_text = {d["CF_NR"]: d for d in rows.values()}
    words = next(d for t, d in by_text.items() if "罚款人民币二十二万元" in t)
    assert words["CF_NR_FK"] == "22"
    before = rows["赣银保监罚决字〔2022〕46号|江西省亚泰汽车贸易有限公司"]  # 警告，处1万元罚款
    assert (before["CF_CFLB"], before["CF_NR_FK"]) == ("警告;罚款", "1")
    # wrapped 文号 lose their brackets
    assert not any(k.startswith(("（", "(")) for k in rows)


def test_resending_changes_nothing_and_a_clerk_links_a_pending_record(
    engine: Engine, cbirc_catalog
) -> None:  # type: ignore[no-untyped-def]
    _run(engine, cbirc_catalog, CBIRC_CSV)
    again = _run(engine, cbirc_catalog, CBIRC_CSV)
    assert (again.new, again.updated, again.pending, again.unchanged) == (0, 0, 0, 3084)
    with engine.begin() as conn:
        waiting = records.pending(conn, limit=5)
        assert len(waiting) == 5
        linked = records.link_pending(
            conn, cbirc_catalog, waiting[0]["id"], "91110000710926094P", actor="test"
        )
        assert linked["subject_id"] is not None
        left = conn.execute(
            select(func.count()).where(records_table.c.subject_id.is_(None))
        ).scalar_one()
    assert left == 3078


def test_the_original_workbook_reads_like_the_csv_and_names_the_sheets_it_skipped(
    engine: Engine, cbirc_catalog
) -> None:  # type: ignore[no-untyped-def]
    receipt = _run(engine, cbirc_catalog, CBIRC_XLSX)
    # The workbook has one sheet per source list; the first holds the 59 rows of 总局机关.
    assert receipt.received == 59
    skipped = [w for w in receipt.warnings if w["code"] == "SHEETS_NOT_READ"]
    assert skipped and "4114_监管局本级" in skipped[0]["message"]
    csv_receipt = _run(engine, cbirc_catalog, CBIRC_CSV)
    # the same rows arrive through the CSV: read the same, they change nothing
    repeats = sum(w["code"] == "KEY_REPEATED_IN_FILE" for w in csv_receipt.warnings)
    assert csv_receipt.unchanged == receipt.pending + repeats
