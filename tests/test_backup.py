"""Backup and recovery on both databases: a verified backup restores into an empty database
with every record, batch and audit event, and the audit chain intact."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.cli import point_at, reset_cli
from fixtures.deliveries import ENV, HENGDA, LI, LONGDU, SAMR, WANG, penalty, run, write_csv
from sqlalchemy import Engine, create_engine, delete, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from xinyong import backup as service
from xinyong.audit import service as audit
from xinyong.audit.models import audit_events
from xinyong.batches.models import batches
from xinyong.catalog.loader import Catalog
from xinyong.cli import app
from xinyong.db import make_engine
from xinyong.errors import XinyongError
from xinyong.records import service as records_service
from xinyong.records.models import records
from xinyong.settings import Settings

PG_URL = os.environ.get("XINYONG_TEST_PG_URL")


@pytest.fixture
def target(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty second database of the same backend, with no migrations run on it."""
    if settings.database_url.startswith("sqlite"):
        yield Settings(
            database_url=f"sqlite:///{tmp_path / 'restored' / 'xinyong.db'}",
            catalog_dir=settings.catalog_dir,
        )
        return
    assert PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield Settings(
            database_url=f"{PG_URL}{sep}options=-csearch_path%3D{schema}",
            catalog_dir=settings.catalog_dir,
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _deliver(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    """Two departments' deliveries (one with a rejected row) and a withdrawal: records,
    batches, rejects and audit events of several kinds."""
    bad = penalty(LI, "濮市监罚决字〔2023〕00105号", 处罚决定日期="2023/13/45")
    run(
        engine,
        catalog,
        write_csv(
            tmp_path / "市监处罚.csv",
            [
                penalty(LONGDU, "濮市监罚决字〔2023〕00101号"),
                penalty(WANG, "濮市监罚决字〔2023〕00102号"),
                bad,
            ],
        ),
    )
    run(
        engine,
        catalog,
        write_csv(tmp_path / "环境处罚.csv", [penalty(HENGDA, "濮环罚〔2023〕17号", dept=ENV)]),
        dept=ENV,
    )
    with engine.begin() as conn:
        first = conn.execute(select(records.c.id).order_by(records.c.id)).scalars().first()
        assert first is not None
        records_service.withdraw(conn, first, dept_uscc=SAMR.uscc, reason="复议撤销", actor="测试")


def _snapshot(engine: Engine) -> dict[str, list[Any]]:
    """Everything the restore must bring back, as comparable values."""
    with engine.connect() as conn:
        return {
            "records": [
                tuple(r)
                for r in conn.execute(
                    select(records.c.id, records.c.content_hash, records.c.state).order_by(
                        records.c.id
                    )
                )
            ],
            "batches": [
                tuple(r)
                for r in conn.execute(
                    select(batches.c.id, batches.c.dept_uscc, batches.c.file_sha256).order_by(
                        batches.c.id
                    )
                )
            ],
            "audit_events": [
                tuple(r)
                for r in conn.execute(
                    select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq)
                )
            ],
        }


def _has_tables(settings: Settings) -> bool:
    if settings.database_url.startswith("sqlite"):
        return Path(settings.database_url.removeprefix("sqlite:///")).exists()
    eng = make_engine(settings)
    try:
        with eng.connect() as conn:
            return bool(
                conn.execute(
                    text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
                ).scalar_one()
            )
    finally:
        eng.dispose()


def test_a_backup_restores_into_an_empty_database_with_everything(
    engine: Engine, settings: Settings, target: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    before = _snapshot(engine)
    assert len(before["records"]) == 3 and len(before["batches"]) == 2
    assert len(before["audit_events"]) >= 3

    path = tmp_path / "备份" / "xinyong.backup"
    info = service.backup(settings, path)
    assert info.counts == {k: len(v) for k, v in before.items()}
    assert info.bytes == path.stat().st_size > 0
    side = json.loads(service.sidecar_path(path).read_text(encoding="utf-8"))
    assert side["sha256"] == info.sha256 and side["counts"] == info.counts
    assert side["anchor"]["seq"] == len(before["audit_events"])
    # One self-contained file: no WAL or journal left beside it.
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "xinyong.backup",
        "xinyong.backup.json",
    ]

    restored = service.restore(target, path)
    assert restored.sha256 == info.sha256
    eng = make_engine(target)
    try:
        assert _snapshot(eng) == before
        with eng.connect() as conn:
            result = audit.verify(conn, side["anchor"])
        assert result.ok and result.checked == len(before["audit_events"])
        # The append-only guard came back with the schema (triggers on both databases).
        with pytest.raises(DBAPIError), eng.begin() as conn:
            conn.execute(delete(audit_events))
    finally:
        eng.dispose()

    # A restored database is not empty: a second restore into it is refused.
    with pytest.raises(XinyongError) as again:
        service.restore(target, path)
    assert again.value.code == "RESTORE_TARGET_NOT_EMPTY"


def test_a_restore_into_a_database_with_data_is_refused(
    engine: Engine, settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    path = tmp_path / "xinyong.backup"
    service.backup(settings, path)
    before = _snapshot(engine)
    with pytest.raises(XinyongError) as refused:
        service.restore(settings, path)
    assert refused.value.code == "RESTORE_TARGET_NOT_EMPTY"
    assert "空数据库" in refused.value.message
    assert _snapshot(engine) == before


def test_a_tampered_backup_is_refused_before_anything_is_written(
    engine: Engine, settings: Settings, target: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    path = tmp_path / "xinyong.backup"
    service.backup(settings, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(XinyongError) as refused:
        service.restore(target, path)
    assert refused.value.code == "RESTORE_FAILED"
    assert "SHA-256" in refused.value.message
    assert not _has_tables(target)


def test_a_backup_never_overwrites_and_needs_its_sidecar(
    engine: Engine, settings: Settings, target: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "xinyong.backup"
    service.backup(settings, path)
    with pytest.raises(XinyongError) as exists:
        service.backup(settings, path)
    assert exists.value.code == "BACKUP_FAILED"
    service.sidecar_path(path).unlink()
    with pytest.raises(XinyongError) as lost:
        service.restore(target, path)
    assert lost.value.code == "RESTORE_FAILED"


def test_the_commands_back_up_and_restore(
    cli: None,
    engine: Engine,
    target: Settings,
    catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _deliver(engine, catalog, tmp_path)
    before = _snapshot(engine)
    path = tmp_path / "xinyong.backup"
    done = CliRunner().invoke(app, ["backup", str(path)])
    assert done.exit_code == 0, done.output
    assert "备份完成并已校验" in done.output and "信用记录 3 条" in done.output
    # The backup is an audit event of the source database.
    with engine.connect() as conn:
        assert [e.action for e in audit.search(conn, action="backup.create")] == ["backup.create"]

    point_at(target, monkeypatch)
    reset_cli()
    restored = CliRunner().invoke(app, ["restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert "恢复完成" in restored.output
    eng = make_engine(target)
    try:
        after = _snapshot(eng)
        # Everything backed up, then the restore itself as the next event of the same chain.
        assert after["records"] == before["records"] and after["batches"] == before["batches"]
        assert after["audit_events"][: len(before["audit_events"])] == before["audit_events"]
        with eng.connect() as conn:
            assert audit.verify(conn).ok
            assert [e.action for e in audit.search(conn, limit=1)] == ["backup.restore"]
    finally:
        eng.dispose()

    again = CliRunner().invoke(app, ["restore", str(path)])
    assert again.exit_code == 2
    assert "RESTORE_TARGET_NOT_EMPTY" in again.output
    reset_cli()


def _only_postgresql(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("the client tools are PostgreSQL's")


def test_a_missing_or_failing_pg_dump_is_a_clear_error(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _only_postgresql(settings)
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))
    with pytest.raises(XinyongError) as missing:
        service.backup(settings, tmp_path / "a.backup")
    assert missing.value.code == "BACKUP_TOOL_MISSING" and "pg_dump" in missing.value.message

    for name in ("pg_dump", "pg_restore"):
        fake = tools / name
        fake.write_text("#!/bin/sh\necho '磁盘已满：无法写入' >&2\nexit 3\n", encoding="utf-8")
        fake.chmod(0o755)
    with pytest.raises(XinyongError) as failed:
        service.backup(settings, tmp_path / "b.backup")
    assert failed.value.code == "BACKUP_FAILED"
    assert "退出状态 3" in failed.value.message and "磁盘已满" in failed.value.message
    assert not list(tmp_path.glob("b.backup*"))
