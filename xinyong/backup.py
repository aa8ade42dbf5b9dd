"""Backup and recovery (plan 八(五) 数据安全及备份恢复): one file per backup, verified after it
is written, and a restore that only goes into an empty database and checks what it restored.

- **SQLite**: the online backup API copies the live file page by page under SQLite's own
  locking, so the copy is consistent even while others write; the copy is then opened and must
  pass ``PRAGMA integrity_check``.
- **PostgreSQL**: ``pg_dump --format=custom`` of the platform's schema, taken in a snapshot
  exported from our own REPEATABLE READ transaction, so the counts written beside the dump are
  exactly what it holds; ``pg_restore --list`` must then read it back and list the tables.

Beside every backup ``PATH.json`` records what was written (``BackupInfo``): its SHA-256, the
counts of records, batches and audit events, and the audit chain head. A restore refuses a file
whose SHA-256 differs, and afterwards the restored counts must match and ``audit.verify`` (with
that head as the external anchor) must find the chain intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from xinyong.audit import service as audit
from xinyong.audit.models import audit_events
from xinyong.batches.models import batches
from xinyong.db import make_engine
from xinyong.errors import XinyongError
from xinyong.records.models import records
from xinyong.settings import Settings

COUNTED = {"records": records, "batches": batches, "audit_events": audit_events}
# Tables whose presence in a dump shows it holds the platform (checked by ``pg_restore --list``).
REQUIRED_TABLES = frozenset(COUNTED)
# Characters of a tool's standard error kept in a message: the end is where the cause is.
STDERR_TAIL = 800
# Schema names we rewrite in a restored script: plain lower-case identifiers only, so that a
# rename never has to reason about quoting.
_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s]+)")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    dialect: str  # "sqlite" or "postgresql"
    bytes: int
    sha256: str
    counts: dict[str, int]
    created_at: datetime
    # PostgreSQL: the schema dumped (restores may put it under another name); None for SQLite.
    schema: str | None = None
    # The audit chain head at backup time (``audit.export_anchor``): the restored chain must
    # reach exactly this event, so a restore that lost the tail is caught.
    anchor: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "dialect": self.dialect,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "counts": dict(self.counts),
            "created_at": self.created_at.isoformat(),
            "schema": self.schema,
            "anchor": dict(self.anchor),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackupInfo:
        return cls(
            path=Path(data["path"]),
            dialect=str(data["dialect"]),
            bytes=int(data["bytes"]),
            sha256=str(data["sha256"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            created_at=datetime.fromisoformat(data["created_at"]),
            schema=data.get("schema"),
            anchor=dict(data.get("anchor") or {}),
        )


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


# -- the two entry points ---------------------------------------------------------------------


def backup(settings: Settings, path: Path) -> BackupInfo:
    """Write a verified backup of the configured database to ``path`` and ``path.json``."""
    path = Path(path)
    if path.exists() or sidecar_path(path).exists():
        # Never overwrite: an older backup may be the only good one left.
        raise XinyongError("BACKUP_FAILED", f"备份文件已存在，不覆盖：{path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(settings.database_url)
    try:
        if url.get_backend_name() == "sqlite":
            counts, anchor, schema = _backup_sqlite(_sqlite_file(url, "BACKUP_FAILED"), path)
        else:
            counts, anchor, schema = _backup_postgresql(settings, url, path)
    except DBAPIError as exc:
        # e.g. a database without the platform's tables: a message, not a traceback.
        raise XinyongError("BACKUP_FAILED", f"读取数据库失败：{exc.orig}") from None
    info = BackupInfo(
        path=path,
        dialect=url.get_backend_name(),
        bytes=path.stat().st_size,
        sha256=_sha256(path),
        counts=counts,
        created_at=settings.clock.now(),
        schema=schema,
        anchor=anchor,
    )
    sidecar_path(path).write_text(
        json.dumps(info.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return info


def restore(settings: Settings, path: Path) -> BackupInfo:
    """Restore a backup written by ``backup`` into the configured, empty database, then check
    that the counts match and the audit chain is intact up to the head recorded at backup."""
    path = Path(path)
    info = _checked_info(path)
    url = make_url(settings.database_url)
    if info.dialect != url.get_backend_name():
        raise XinyongError(
            "RESTORE_FAILED",
            f"备份来自 {info.dialect} 数据库，不能恢复到 {url.get_backend_name()} 数据库",
        )
    try:
        if url.get_backend_name() == "sqlite":
            _restore_sqlite(path, _sqlite_file(url, "RESTORE_FAILED"))
        else:
            _restore_postgresql(settings, url, path, info)
        _check_restored(settings, info)
    except DBAPIError as exc:
        raise XinyongError("RESTORE_FAILED", f"访问目标数据库失败：{exc.orig}") from None
    return info


# -- shared -----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts(conn: Connection) -> dict[str, int]:
    return {
        name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for name, table in COUNTED.items()
    }


def _checked_info(path: Path) -> BackupInfo:
    """The sidecar of ``path``, after checking the file is the one it describes."""
    side = sidecar_path(path)
    if not path.is_file():
        raise XinyongError("RESTORE_FAILED", f"备份文件不存在：{path}")
    try:
        info = BackupInfo.from_dict(json.loads(side.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise XinyongError("RESTORE_FAILED", f"缺少备份说明文件：{side}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise XinyongError("RESTORE_FAILED", f"备份说明文件无法读取：{side}（{exc}）") from None
    actual = _sha256(path)
    if actual != info.sha256:
        # Checked before anything is written: a damaged or swapped file never reaches the target.
        raise XinyongError(
            "RESTORE_FAILED",
            f"备份文件的 SHA-256（{actual[:16]}…）与备份说明（{info.sha256[:16]}…）不符："
            "文件已损坏或被替换，未恢复任何内容",
        )
    return info


def _check_restored(settings: Settings, info: BackupInfo) -> None:
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            counts = _counts(conn)
            result = audit.verify(conn, info.anchor or None)
    finally:
        engine.dispose()
    if counts != info.counts:
        raise XinyongError("RESTORE_FAILED", f"恢复后的数量 {counts} 与备份时的 {info.counts} 不符")
    if not result.ok:
        raise XinyongError("RESTORE_FAILED", f"恢复后的审计链校验失败：{result.reason}")


def _tail(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").strip()[-STDERR_TAIL:]


# -- SQLite -----------------------------------------------------------------------------------


def _sqlite_file(url: URL, code: str) -> Path:
    if not url.database or url.database == ":memory:":
        raise XinyongError(code, "内存中的 SQLite 数据库无法备份或恢复")
    return Path(url.database)


def _sqlite_ro(path: Path) -> sqlite3.Connection:
    # Read-only by URI: opening a missing file must fail, not create an empty database.
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)


def _plain_engine(path: Path) -> Engine:
    # Without make_engine's pragmas: those would switch the backup file to WAL mode and leave
    # -wal/-shm files beside it, and a backup must stay one self-contained file.
    return create_engine(f"sqlite:///{path}")


def _backup_sqlite(live: Path, path: Path) -> tuple[dict[str, int], dict[str, Any], None]:
    if not live.is_file():
        raise XinyongError("BACKUP_FAILED", f"数据库文件不存在：{live}")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = _sqlite_ro(live)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # The live file is in WAL mode and the copy inherits it; a backup is one file.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        check = sqlite3.connect(partial)
        try:
            verdict = [row[0] for row in check.execute("PRAGMA integrity_check")]
        finally:
            check.close()
        if verdict != ["ok"]:
            raise XinyongError(
                "BACKUP_FAILED", f"备份副本未通过完整性检查：{'; '.join(verdict)[:STDERR_TAIL]}"
            )
        engine = _plain_engine(partial)
        try:
            with engine.connect() as conn:
                counts, anchor = _counts(conn), audit.export_anchor(conn)
        finally:
            engine.dispose()
        # Only a verified copy gets the final name.
        partial.replace(path)
    except sqlite3.Error as exc:
        raise XinyongError("BACKUP_FAILED", f"SQLite 备份失败：{exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return counts, anchor, None


def _sqlite_has_data(target: Path) -> bool:
    """Whether the target file holds any row: a missing or merely migrated file is empty."""
    if not target.exists():
        return False
    conn = _sqlite_ro(target)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        return any(
            conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is not None
            for name in tables
        )
    finally:
        conn.close()


def _restore_sqlite(path: Path, target: Path) -> None:
    try:
        if _sqlite_has_data(target):
            raise XinyongError(
                "RESTORE_TARGET_NOT_EMPTY",
                f"目标数据库已有数据：{target}；恢复只能进入空数据库，未作任何改动",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        src = _sqlite_ro(path)
        dst = sqlite3.connect(target)
        try:
            # The backup API again: it replaces every page of the target under its own locks.
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        raise XinyongError("RESTORE_FAILED", f"SQLite 恢复失败：{exc}") from None


# -- PostgreSQL -------------------------------------------------------------------------------


def _pg_schema(url: URL) -> str:
    """The schema the platform lives in: the first entry of ``options=-csearch_path=…``, else
    ``public`` (migrations create every table in the current schema)."""
    options = url.query.get("options")
    text_options = " ".join(options) if isinstance(options, tuple) else (options or "")
    found = _SEARCH_PATH.search(text_options)
    if not found:
        return "public"
    return found.group(1).split(",")[0].strip().strip('"')


def _pg_env(url: URL) -> dict[str, str]:
    """Connection parameters for the client tools, in their environment: the password never
    appears on a command line that other users of the machine can list."""
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[var] = str(value)
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    # The tools must not pick up another schema from the caller's PGOPTIONS.
    env.pop("PGOPTIONS", None)
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise XinyongError(
            "BACKUP_TOOL_MISSING",
            f"找不到 PostgreSQL 客户端工具 {name}：请安装与服务器版本相同的 postgresql-client",
        )
    return found


def _run(args: list[str], env: dict[str, str], code: str, what: str) -> bytes:
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise XinyongError(code, f"{what}失败（退出状态 {done.returncode}）：{_tail(done.stderr)}")
    return done.stdout


def _listed_tables(listing: bytes) -> set[str]:
    # Lines like "218; 1259 16390 TABLE t_abc records postgres".
    return {
        m.group(1).decode()
        for m in re.finditer(rb"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE)
    }


def _backup_postgresql(
    settings: Settings, url: URL, path: Path
) -> tuple[dict[str, int], dict[str, Any], str]:
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    schema = _pg_schema(url)
    env = _pg_env(url)
    engine = make_engine(settings)
    partial = path.with_name(path.name + ".partial")
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                # The dump runs in our snapshot, so the counts and anchor read here are exactly
                # those of the dump, whatever is written meanwhile.
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                counts, anchor = _counts(conn), audit.export_anchor(conn)
                _run(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--schema={schema}",
                        f"--snapshot={snapshot}",
                        f"--file={partial}",
                    ],
                    env,
                    "BACKUP_FAILED",
                    "pg_dump ",
                )
        listing = _run([pg_restore, "--list", str(partial)], env, "BACKUP_FAILED", "备份校验")
        missing = REQUIRED_TABLES - _listed_tables(listing)
        if missing:
            raise XinyongError(
                "BACKUP_FAILED", f"备份校验失败：转储中缺少表 {', '.join(sorted(missing))}"
            )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    return counts, anchor, schema


_ENSURE_APP_ROLE = """
DO $$ BEGIN
    -- The dump's grants name the application role (migration 0002), which belongs to the
    -- cluster and so is not in the dump; create it like the migration does when missing.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xinyong_app') THEN
        CREATE ROLE xinyong_app NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN NULL;
END $$
"""


def _prepare_pg_target(settings: Settings, schema: str) -> None:
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            ).scalar_one()
            if tables:
                # A schema with tables would collide with the dump's, and may hold data.
                raise XinyongError(
                    "RESTORE_TARGET_NOT_EMPTY",
                    f"目标模式 {schema} 已有 {tables} 张表；恢复只能进入空数据库，未作任何改动",
                )
            quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
            conn.execute(text(_ENSURE_APP_ROLE))
    finally:
        engine.dispose()


def _schema_renamer(source: str, target: str) -> Callable[[bytes], bytes]:
    """A line filter that moves the script's objects from ``source`` to ``target``.

    pg_dump qualifies every name with its schema and pg_restore cannot rename one, so the
    script is rewritten on its way to psql, outside COPY data only: stored values are never
    touched, whatever text they hold.
    """
    if source == target:
        return lambda line: line
    if not (_PLAIN_IDENT.match(source) and _PLAIN_IDENT.match(target)):
        raise XinyongError(
            "RESTORE_FAILED",
            f"只能在普通小写标识符之间改换模式名：备份为 {source}，目标为 {target}",
        )
    word = re.compile(rb"(?<![\w$\"])" + re.escape(source.encode()) + rb"(?![\w$])")
    new = target.encode()
    in_copy = False

    def rename(line: bytes) -> bytes:
        nonlocal in_copy
        if in_copy:
            if line.rstrip(b"\r\n") == b"\\.":
                in_copy = False
            return line
        if line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            in_copy = True
        return word.sub(new, line)

    return rename


def _restore_postgresql(settings: Settings, url: URL, path: Path, info: BackupInfo) -> None:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    env = _pg_env(url)
    target = _pg_schema(url)
    _prepare_pg_target(settings, target)
    rename = _schema_renamer(info.schema or target, target)
    listing = _run([pg_restore, "--list", str(path)], env, "RESTORE_FAILED", "读取备份目录")
    # The schema itself was created above (it may exist already, empty, or have another name):
    # its CREATE SCHEMA entry is left out of the restore.
    kept = b"\n".join(
        line for line in listing.splitlines() if not re.match(rb"^\d+; \d+ \d+ SCHEMA - ", line)
    )
    with (
        tempfile.NamedTemporaryFile(suffix=".list") as list_file,
        tempfile.TemporaryFile() as dump_err,
        tempfile.TemporaryFile() as load_err,
    ):
        list_file.write(kept + b"\n")
        list_file.flush()
        # pg_restore writes the script, psql runs it in one transaction that stops at the first
        # error: a failed restore leaves the target as empty as it was.
        dump = subprocess.Popen(
            [pg_restore, "--no-owner", f"--use-list={list_file.name}", "--file=-", str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=dump_err,
        )
        load = subprocess.Popen(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=load_err,
        )
        assert dump.stdout is not None and load.stdin is not None
        _pipe(dump.stdout, load.stdin, rename)
        dump_status, load_status = dump.wait(), load.wait()
        # psql first: when it stops at an error, pg_restore dies of the closed pipe.
        for status, err, what in (
            (load_status, load_err, "psql "),
            (dump_status, dump_err, "pg_restore "),
        ):
            if status != 0:
                err.seek(0)
                raise XinyongError(
                    "RESTORE_FAILED", f"{what}恢复失败（退出状态 {status}）：{_tail(err.read())}"
                )


def _pipe(source: IO[bytes], sink: IO[bytes], rename: Callable[[bytes], bytes]) -> None:
    try:
        for line in source:
            sink.write(rename(line))
    except BrokenPipeError:
        # psql stopped early (an error); its status and message are reported by the caller.
        pass
    finally:
        source.close()
        with contextlib.suppress(BrokenPipeError):
            sink.close()
