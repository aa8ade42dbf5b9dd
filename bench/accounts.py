"""The department system account a benchmark acts as, with its API token (imported by the
bench scripts beside it)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection

from xinyong.accounts.roles import Principal, Role
from xinyong.accounts.service import create_account
from xinyong.accounts.tokens import issue_token


def dept_system_token(
    conn: Connection, catalog: Any, dept_uscc: str, display_name: str, *, name: str = "bench"
) -> str:
    """A new 部门系统 account of ``dept_uscc`` (a fresh username each run) and a token for it,
    created by ``name@localhost`` from the command line."""
    by = Principal.cli(f"{name}@localhost")
    account = create_account(
        conn,
        catalog,
        username=f"{name}-{uuid.uuid4().hex[:8]}",
        role=Role.DEPT_SYSTEM,
        display_name=display_name,
        dept_uscc=dept_uscc,
        created_by=name,
        by=by,
    )
    return issue_token(conn, account.id, label=name, by=by)
