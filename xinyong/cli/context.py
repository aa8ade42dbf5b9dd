"""What every command needs: settings, the engine, the catalogue, the acting user, and one way
to turn a domain error into a Chinese message and an exit status (never a traceback)."""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from xinyong.accounts.purposes import purpose_required, stated_purpose
from xinyong.audit.service import append_independently
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.clock import Clock, beijing
from xinyong.db import is_busy, make_engine, schema_is_current, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.errors import Busy, XinyongError
from xinyong.settings import Settings, get_settings

# Exit status of a command that found the database busy (another delivery is being ingested):
# beside 0 (done), 1 (some rows rejected) and 2 (refused); nothing was changed, run it again.
EXIT_BUSY = 3

# Piped or redirected output is read by a program or a person searching it (`| grep`, `> file`):
# a table is printed whole there, never folded to 80 columns or cut with "…". A terminal keeps
# its own width; COLUMNS, when set, is honoured either way.
PIPED_WIDTH = 100_000


def make_console(*, stderr: bool = False, **options: Any) -> Console:
    """A console for standard output (or error): a terminal's width, else wide enough that
    every table prints whole."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        terminal = False
    width = None if terminal or os.environ.get("COLUMNS") else PIPED_WIDTH
    return Console(stderr=stderr, width=width, **options)


out = make_console()
err = make_console(stderr=True)


def local_time(value: datetime | None) -> str:
    """A stored timestamp as Beijing time (SQLite hands back naive UTC, PostgreSQL aware)."""
    return beijing(value)


# A caller that runs commands in its own process (the tests) hands them its clock here, so the
# command line and the caller read one time; None: the settings' own clock.
clock_override: Clock | None = None


def settings() -> Settings:
    found = get_settings()
    if clock_override is None:
        return found
    return found.model_copy(update={"clock": clock_override})


@cache
def engine() -> Engine:
    eng = make_engine(settings())
    if not schema_is_current(eng):
        # SQLite (trials, demos, small counties) is built or brought up to date on first use;
        # PostgreSQL is migrated on purpose, by the operator, with `xinyong db upgrade`.
        if eng.dialect.name != "sqlite":
            eng.dispose()
            raise XinyongError(
                "DB_SCHEMA_OUTDATED", "数据库表结构不是最新版本，请先运行 `xinyong db upgrade`"
            )
        upgrade_schema(eng)
    # The catalogue's departments that the database lacks (a new database, a newer
    # catalogue); never changes one it holds.
    seed_database(eng, catalog())
    return eng


@cache
def catalog() -> Catalog:
    return load_catalog(settings().catalog_dir)


def actor() -> str:
    """The local command line acts as the built-in operator, recorded with the OS user."""
    try:
        user = getpass.getuser()
    except OSError:
        user = str(os.getuid())
    return f"cli:{user}@{socket.gethostname()}"


def print_json(payload: Any) -> None:
    """One JSON document on standard output, for scripts (``--json``); dates as ISO text."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, frozenset, set)):
        return list(value)
    return str(value)


def fail(error: XinyongError, *, as_json: bool = False, status: int = 2) -> NoReturn:
    if as_json:
        sys.stdout.write(json.dumps({"error": error.as_dict()}, ensure_ascii=False) + "\n")
    else:
        err.print(f"[red]错误[/red]（{error.code}）：{error.message}", highlight=False)
    raise typer.Exit(status)


@contextmanager
def transaction(
    *,
    as_json: bool = False,
    rollback: bool = False,
    audit_as: str | None = None,
    audit_detail: dict[str, Any] | None = None,
) -> Iterator[Connection]:
    """One transaction per command; domain errors become a message and exit status 2.

    With ``audit_as`` (an action code), a refused or failed command is still an audit event:
    written after the command's own transaction has rolled back, in one of its own.
    """
    try:
        with engine().connect() as conn:
            tx = conn.begin()
            try:
                yield conn
            except BaseException:
                tx.rollback()
                raise
            if rollback:
                tx.rollback()
            else:
                tx.commit()
    except Busy as exc:
        fail(exc, as_json=as_json, status=EXIT_BUSY)
    except XinyongError as exc:
        _audit_refusal(audit_as, "denied", exc.code, exc.message, audit_detail)
        fail(exc, as_json=as_json)
    except OperationalError as exc:
        if is_busy(exc):
            # Another delivery holds the database's one writer for longer than the bounded
            # wait: nothing was stored, and this is not "file refused" (2) but "try later" (3).
            fail(Busy(), as_json=as_json, status=EXIT_BUSY)
        fail(XinyongError("DB_UNAVAILABLE", f"数据库不可用：{exc.orig}"), as_json=as_json)
    except OSError as exc:
        fail(XinyongError("FILE_UNREADABLE", f"无法读写文件：{exc}"), as_json=as_json)
    except Exception as exc:
        # A bug, not bad input: the user gets a message and a status, the traceback goes to
        # standard error only when asked for (XINYONG_DEBUG=1).
        if os.environ.get("XINYONG_DEBUG"):
            import traceback

            traceback.print_exc()
        _audit_refusal(audit_as, "failed", "INTERNAL_ERROR", type(exc).__name__, audit_detail)
        fail(
            XinyongError(
                "INTERNAL_ERROR", f"处理失败（内部错误，未保存任何内容）：{type(exc).__name__}"
            ),
            as_json=as_json,
        )


def _audit_refusal(
    action: str | None, outcome: str, code: str, message: str, detail: dict[str, Any] | None
) -> None:
    if action is None:
        return
    try:
        append_independently(
            engine(),
            actor=actor(),
            role="operator",
            action=action,
            outcome=outcome,
            source=socket.gethostname(),
            detail={**(detail or {}), "code": code, "message": message},
        )
    except Exception:  # the refusal itself must still reach the user
        err.print("（审计日志写入失败）")


def read_purpose(purpose: str | None, as_json: bool = False) -> str:
    """The stated purpose (查询事由) of a read of non-public information on the command line;
    none, or one that says nothing, is refused with exit status 2 before anything is read."""
    try:
        stated = stated_purpose(purpose)
    except XinyongError as exc:
        fail(exc, as_json=as_json)
    if stated is None:
        fail(purpose_required(), as_json=as_json)
    return stated
