"""A database left at an older schema: SQLite is brought up to date on first use, PostgreSQL
is refused with a clear message until the operator runs `xinyong db upgrade`."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.db import alembic_config, make_engine, migration_head, schema_is_current
from xinyong.settings import Settings


def _build_to(settings: Settings, revision: str) -> Engine:
    eng = make_engine(settings)
    with eng.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return eng


@pytest.mark.usefixtures("cli_on_settings")
def test_an_old_schema_is_upgraded_on_sqlite_and_refused_on_postgresql(
    settings: Settings,
) -> None:
    eng = _build_to(settings, "0001")
    try:
        assert not schema_is_current(eng)
        result = CliRunner().invoke(app, ["batches", "--json"])
        if eng.dialect.name == "sqlite":
            assert result.exit_code == 0, result.output
            assert schema_is_current(eng)
        else:
            assert result.exit_code == 2
            assert "DB_SCHEMA_OUTDATED" in result.output
            assert "xinyong db upgrade" in result.output
            assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
            assert schema_is_current(eng)
    finally:
        eng.dispose()


def test_the_head_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert migration_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()
