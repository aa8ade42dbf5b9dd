"""The change feed, outbound packages, acknowledgements and inbound packages (issue 16 items
1-3), on both databases: a round trip export → acknowledgement with rejects → the source
department sees them; an inbound package updates subjects and lists."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import (
    ENV,
    HENGDA,
    LONGDU,
    SAMR,
    XINYUAN,
    make_uscc,
    penalty,
    run,
    write_csv,
)
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.errors import XinyongError
from xinyong.exchange import ack, feed, outbound, verify
from xinyong.exchange.models import exchange_changes, exchange_packages
from xinyong.exchange.packages import (
    BODY_SUFFIX,
    BodyWriter,
    Header,
    read_package,
    write_header,
)
from xinyong.ingest.exchange import receive
from xinyong.jobs import run_daily
from xinyong.lists.models import list_entries
from xinyong.notifications.inbox import messages
from xinyong.records import service as records_service
from xinyong.records.models import records
from xinyong.subjects.models import subjects

OPERATOR = Principal(role=Role.OPERATOR, name="cli:test@host", source="host")
SAMR_CLERK = Principal(role=Role.CLERK, name="samr", dept_uscc=SAMR.uscc, account_id=1)
ENV_CLERK = Principal(role=Role.CLERK, name="env", dept_uscc=ENV.uscc, account_id=2)
PROVINCE = "410000"
PROVINCE_DEPT = "11410000PY0000102R"


def _deliver(engine: Engine, catalog: Catalog, tmp: Path, name: str, rows: list[Any]) -> None:
    receipt = run(engine, catalog, write_csv(tmp / name, rows))
    assert receipt.rejected == 0, receipt.rejects


def _three(engine: Engine, catalog: Catalog, tmp: Path) -> None:
    _deliver(
        engine,
        catalog,
        tmp,
        "a.csv",
        [
            penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
            penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),
            penalty(LONGDU, "濮市监罚决字〔2023〕00103号"),
        ],
    )


def _changes(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(exchange_changes).order_by(exchange_changes.c.seq)))


def _export(engine: Engine, catalog: Catalog, out: Path, **kw: Any) -> outbound.ExportResult:
    out.mkdir(exist_ok=True)
    with engine.begin() as conn:
        return outbound.export(conn, catalog, OPERATOR, output=out, **kw)


def _body(out: Path, package: dict[str, Any]) -> list[dict[str, Any]]:
    pkg = read_package(out / package["file"])
    return list(pkg.records())


def test_a_batch_numbers_its_records_and_every_later_change(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _three(engine, catalog, tmp_path)
    first = _changes(engine)
    assert [(c.event, c.operation, c.shared) for c in first] == [("new", "ADD", True)] * 3
    assert [c.seq for c in first] == sorted(c.seq for c in first)

    # the same file again changes nothing: nothing is numbered
    _three(engine, catalog, tmp_path)
    assert len(_changes(engine)) == 3

    # a correction, a withdrawal, then the end of publicity found by daily
    _deliver(
        engine,
        catalog,
        tmp_path,
        "b.csv",
        [penalty(XINYUAN, "濮市监罚决字〔2023〕00101号", 处罚内容="罚款人民币6000元")],
    )
    with engine.begin() as conn:
        rid = conn.execute(
            select(records.c.id).where(records.c.natural_key.contains("00102"))
        ).scalar_one()
        records_service.withdraw(conn, rid, dept_uscc=SAMR.uscc, reason="决定已撤销", actor="samr")
    with engine.begin() as conn:
        run_daily(conn, as_of=date(2040, 1, 1), actor="cli:test")
    events = [(c.event, c.operation) for c in _changes(engine)[3:]]
    assert events[0] == ("corrected", "MOD")
    assert ("withdrawn", "DEL") in events
    assert ("expired", "MOD") in events
    # daily run twice: nothing new
    before = len(_changes(engine))
    with engine.begin() as conn:
        run_daily(conn, as_of=date(2040, 1, 1), actor="cli:test")
    assert len(_changes(engine)) == before


def test_what_the_disclosure_rules_keep_never_enters_the_feed(
    engine: Engine, catalog_dir: Path, tmp_path: Path, catalog: Catalog
) -> None:
    _three(engine, catalog, tmp_path)
    # the catalogue now says XZCF is 授权查询: its next change is numbered but not shared
    path = catalog_dir / "datasets" / "XZCF.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("disclosure: 公开公示", "disclosure: 授权查询"),
        encoding="utf-8",
    )
    private = load_catalog(catalog_dir)
    with engine.begin() as conn:
        rid = conn.execute(select(func.min(records.c.id))).scalar_one()
        records_service.withdraw(conn, rid, dept_uscc=SAMR.uscc, reason="撤销", actor="samr")
        assert feed.capture(conn, private) == 1
    last = _changes(engine)[-1]
    assert (last.event, last.shared) == ("withdrawn", False)
    result = _export(engine, private, tmp_path / "out", since="0")
    sent = [r["seq"] for p in result.packages for r in _body(tmp_path / "out", p)]
    assert last.seq not in sent and len(sent) == 3


def test_export_writes_checked_packages_split_by_size_and_resumes_from_its_cursor(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _three(engine, catalog, tmp_path)
    out = tmp_path / "out"
    result = _export(engine, catalog, out, since="0", max_bytes=1)
    assert len(result.packages) == 3  # one record per package at a 1-byte limit
    for p in result.packages:
        head = json.loads((out / p["file"]).read_text(encoding="utf-8"))
        assert head["source_node"] == "410900" and head["target_node"] == PROVINCE
        assert head["dataset"] == "XZCF" and head["encoding"] == "UTF-8"
        assert head["record_count"] == 1 and head["counts"]["ADD"] == 1
        assert len(head["package_id"]) == 36 and head["checksum"]["algorithm"] == "SHA-256"
        (line,) = _body(out, p)
        assert line["op"] == "ADD" and line["subject"]["uscc"]
        assert line["data"]["CF_WSH"].startswith("濮市监罚决字")
    # nothing new: the next export from the returned cursor writes nothing
    again = _export(engine, catalog, tmp_path / "out2", since=result.next_cursor)
    assert again.packages == [] and again.next_seq == result.next_seq
    # without --since it continues where the last export to the node ended
    _deliver(engine, catalog, tmp_path, "c.csv", [penalty(XINYUAN, "濮市监罚决字〔2023〕00199号")])
    more = _export(engine, catalog, tmp_path / "out3", since=None)
    assert more.records == 1 and more.since == result.next_seq


def test_a_tampered_body_is_refused(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    _three(engine, catalog, tmp_path)
    out = tmp_path / "out"
    (p,) = _export(engine, catalog, out, since="0").packages
    body = out / p["body_file"]
    body.write_bytes(body.read_bytes().replace("罚款".encode(), "警告".encode(), 1))
    with pytest.raises(XinyongError) as refused:
        read_package(out / p["file"])
    assert refused.value.code == "PACKAGE_CHECKSUM_MISMATCH"


def test_round_trip_export_ack_with_rejects_reaches_the_source_department(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _three(engine, catalog, tmp_path)
    out = tmp_path / "out"
    (p,) = _export(engine, catalog, out, since="0").packages
    lines = _body(out, p)
    rejected_seq = lines[1]["seq"]
    ack_file = tmp_path / "ack.json"
    ack_file.write_text(
        json.dumps(
            {
                "package_id": p["package_id"],
                "node": PROVINCE,
                "results": [
                    {
                        "seq": rejected_seq,
                        "status": "rejected",
                        "reason_code": "E102",
                        "reason": "行政相对人代码与登记信息不符",
                    },
                    {"seq": 999999, "status": "rejected", "reason": "不属于本包"},
                ],
                "others": "accepted",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with engine.begin() as conn:
        result = ack.reconcile(conn, OPERATOR, ack_file)
    assert (result.records, result.accepted, result.rejected) == (3, 2, 1)
    assert result.unknown == [999999] and result.departments == {SAMR.uscc: 1}
    with engine.connect() as conn:
        (mine,) = ack.rejections(conn, SAMR_CLERK)
        assert mine.reason == "行政相对人代码与登记信息不符" and mine.reason_code == "E102"
        assert "00102" in mine.key and mine.event == "new"
        assert ack.rejections(conn, ENV_CLERK) == []
        assert ack.summary(conn, SAMR_CLERK) == {
            "pending": 0,
            "sent": 0,
            "accepted": 2,
            "rejected": 1,
        }
        inbox = messages(conn, subject_id=None, dept_uscc=SAMR.uscc)
        assert any("退回 1 条" in m.title for m in inbox)
        status = conn.execute(
            select(exchange_packages.c.status).where(exchange_packages.c.guid == p["package_id"])
        ).scalar_one()
        assert status == "acknowledged"
    with pytest.raises(XinyongError) as twice, engine.begin() as conn:
        ack.reconcile(conn, OPERATOR, ack_file)
    assert twice.value.code == "ACK_DUPLICATE"


def _inbound_package(directory: Path, rows: list[dict[str, Any]], ops: list[str]) -> Path:
    directory.mkdir(exist_ok=True)
    stem = "410000-410900-SXBZX-20261207100000-0001"
    header = Header(
        guid="6f1c1d1e-0000-4000-8000-000000000001",
        created_at="2026-12-07T10:00:00+08:00",
        source_node=PROVINCE,
        target_node="410900",
        dataset="SXBZX",
        body_file=f"{stem}{BODY_SUFFIX}",
    )
    writer = BodyWriter(directory / header.body_file)
    for n, (row, op) in enumerate(zip(rows, ops, strict=True), start=1):
        line = {"seq": n, "op": op, "key": row.pop("_key", ""), "data": row}
        writer.write(json.dumps(line, ensure_ascii=False).encode())
        header.records += 1
        header.counts[op] += 1
    header.checksum = writer.close()
    return write_header(directory, stem, header)


def _court_row(name: str, uscc: str, case_no: str) -> dict[str, Any]:
    return {
        "MD_ZTMC": name,
        "MD_ZTLB": "法人及非法人组织",
        "MD_SHXYM": uscc,
        "MD_ZRR": "赵某",
        "MD_RDBM": "郑州市中级人民法院",
        "MD_RDBMDM": make_uscc("11", "410100", "PY00770A"),
        "ZX_ZXYJWH": "（2025）豫01民初123号",
        "ZX_AH": case_no,
        "ZX_LASJ": "2025-03-01",
        "ZX_YW": "支付货款人民币二十万元",
        "ZX_LXQK": "全部未履行",
        "MD_LRSY": "有履行能力而拒不履行生效法律文书确定义务",
        "MD_LRRQ": "2025-06-01",
        "MD_SJLY": "郑州市中级人民法院",
        "MD_SJLYDM": make_uscc("11", "410100", "PY00770A"),
        "BZ": "合成数据（测试用）",
    }


def test_an_inbound_package_updates_subjects_and_lists_and_is_verified_in_five_working_days(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    newcomer = make_uscc("91", "410100", "MA88YY1K")
    head = _inbound_package(
        tmp_path / "in",
        [
            _court_row("郑州某某贸易有限公司", newcomer, "（2025）豫01执555号"),
            _court_row(XINYUAN.name, XINYUAN.uscc, "（2025）豫01执556号"),
        ],
        ["ADD", "ADD"],
    )
    with engine.begin() as conn:
        got = receive(conn, catalog, OPERATOR, head)
    assert got.receipt.new == 2 and got.receipt.rejected == 0, got.receipt.rejects
    # Monday 7 December 2026 + 5 working days
    assert got.package.due_on == date(2026, 12, 14) and not got.package.due_provisional
    with engine.connect() as conn:
        subject = conn.execute(select(subjects).where(subjects.c.uscc == newcomer)).one()
        assert subject.name == "郑州某某贸易有限公司"
        entries = conn.execute(
            select(list_entries.c.status).where(list_entries.c.dept_uscc == PROVINCE_DEPT)
        ).all()
        assert [e.status for e in entries] == ["listed", "listed"]
        # what the province sent down is never echoed back to it
        mine = conn.execute(
            select(exchange_changes.c.shared).where(exchange_changes.c.dept_uscc == PROVINCE_DEPT)
        ).all()
        assert mine and not any(m.shared for m in mine)
    with pytest.raises(XinyongError) as again, engine.begin() as conn:
        receive(conn, catalog, OPERATOR, head)
    assert again.value.code == "PACKAGE_DUPLICATE"

    with engine.begin() as conn:
        late = run_daily(conn, as_of=date(2026, 12, 15), actor="cli:test")
    assert late.steps["exchange.verify_overdue"] == {"overdue": 1}
    with engine.begin() as conn:
        done = verify.verify(conn, OPERATOR, got.package.guid, verdict="verified")
    assert done.status == "verified"
    with engine.begin() as conn:
        assert run_daily(conn, as_of=date(2026, 12, 16), actor="cli:test").steps[
            "exchange.verify_overdue"
        ] == {"overdue": 0}


def test_pull_feed_is_for_peer_systems_and_operators_only(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _three(engine, catalog, tmp_path)
    peer = Principal(role=Role.DEPT_SYSTEM, name="sx", dept_uscc=PROVINCE_DEPT, account_id=3)
    with engine.connect() as conn:
        page1 = outbound.pull(conn, catalog, peer, cursor=None, limit=2)
        assert len(page1["items"]) == 2 and page1["has_more"]
        page2 = outbound.pull(conn, catalog, peer, cursor=page1["next"], limit=2)
        assert len(page2["items"]) == 1 and not page2["has_more"]
        assert page2["items"][0]["op"] == "ADD"
        with pytest.raises(XinyongError) as refused:
            outbound.pull(conn, catalog, SAMR_CLERK, cursor=None)
        assert refused.value.code == "EXCHANGE_PULL_NOT_ALLOWED"
        with pytest.raises(XinyongError) as bad:
            outbound.pull(conn, catalog, peer, cursor="x1_garbage!")
        assert bad.value.code == "CURSOR_INVALID"
