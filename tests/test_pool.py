"""PostgreSQL connections in the pool: no ping per checkout (a round trip on every request),
but a connection that lay idle is pinged, and one the server cut is replaced unnoticed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text

from xinyong import db


def test_a_connection_cut_while_idle_is_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to cut a connection")
    with engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.connect() as conn:  # back in the pool moments ago: not pinged, the same one
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
    # the server ends that backend (a restart, an administrator, a firewall) while it is idle
    killer = create_engine(engine.url)
    try:
        with killer.begin() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
    finally:
        killer.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # "idle long enough" now
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
