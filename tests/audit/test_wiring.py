"""What the command line and the services do is in the audit log, refusals included."""

from __future__ import annotations

from pathlib import Path

from fixtures.deliveries import LONGDU, SAMR, penalty, run, write_csv
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from xinyong.audit import service as audit
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.cli import app
from xinyong.records import service as records
from xinyong.records.models import records as records_table


def xinyong(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def _events(engine: Engine, action: str) -> list[audit.AuditEvent]:
    with engine.connect() as conn:
        return audit.search(conn, action=action)


def test_a_delivery_a_withdrawal_and_a_link_are_audit_events(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    uncoded = penalty(LONGDU, "濮市监罚决字〔2023〕00302号")
    uncoded["行政相对人代码_1(统一社会信用代码)"] = ""
    path = write_csv(
        tmp_path / "处罚.csv", [penalty(LONGDU, "濮市监罚决字〔2023〕00301号"), uncoded]
    )
    receipt = run(engine, catalog, path)
    (delivered,) = _events(engine, "batch.ingest")
    assert delivered.batch_id == receipt.batch_id
    assert delivered.dept_uscc == SAMR.uscc
    assert delivered.detail["new"] == 1 and delivered.detail["pending"] == 1

    with engine.begin() as conn:
        rid, pending_id = [
            r.id for r in conn.execute(select(records_table.c.id).order_by(records_table.c.id))
        ]
        records.withdraw(conn, rid, dept_uscc=SAMR.uscc, reason="复议撤销", actor="测试")
        records.link_pending(conn, catalog, pending_id, LONGDU.uscc, actor="测试")
    (withdrawn,) = _events(engine, "record.withdraw")
    assert (withdrawn.record_id, withdrawn.purpose) == (rid, "复议撤销")
    (linked,) = _events(engine, "subject.link")
    assert linked.record_id == pending_id and linked.subject_id is not None
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_a_refused_delivery_leaves_an_event_and_nothing_else(
    cli: None, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "空.csv"
    path.write_text("甲,乙\n1,2\n", encoding="utf-8")
    result = xinyong("ingest", path, "--dataset", "XZCF", "--dept", SAMR.uscc, "--json")
    assert result.exit_code == 2
    (refused,) = _events(engine, "batch.ingest")
    assert refused.outcome == "denied"
    assert refused.detail["code"] == "FILE_MISSING_COLUMNS"
    assert refused.actor.startswith("cli:")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(records_table)).scalar_one() == 0
        assert audit.verify(conn).ok


def test_a_dry_run_is_not_a_delivery(cli: None, engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "处罚.csv", [penalty(LONGDU, "濮市监罚决字〔2023〕00303号")])
    result = xinyong(
        "ingest", path, "--dataset", "XZCF", "--dept", SAMR.uscc, "--json", "--dry-run"
    )
    assert result.exit_code == 0
    assert _events(engine, "batch.ingest") == []
