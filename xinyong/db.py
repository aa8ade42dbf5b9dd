"""Engine creation and every difference between SQLite and PostgreSQL, in one place.

SQLite is the zero-setup default (a file, WAL, foreign keys on); PostgreSQL is production.
Services receive a ``Connection`` and never commit: the command, request or job that calls them
owns the transaction.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Date,
    Engine,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.sql.selectable import TextualSelect

from xinyong.clock import bind_clock
from xinyong.settings import Settings

# Constraint names that Alembic can reproduce on both dialects.
# Execution option of a connection that only reads (see make_engine).
READ_ONLY = "xinyong_read_only"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Json = JSON().with_variant(postgresql.JSONB(), "postgresql")


def _sqlite_pragmas(cache_kib: int, busy_timeout_s: float) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        # A writer waits this long for the one write lock (a delivery holds it for its whole
        # transaction), then fails with "database is locked", which is_busy recognises; WAL
        # readers never wait.
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cur.close()

    return on_connect


def sqlite_pragma_statements(cache_kib: int) -> list[str]:
    """The pragmas the product sets, for benchmarks that must use the same ones."""
    return [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA cache_size=-{int(cache_kib)}",
    ]


def make_engine(settings: Settings) -> Engine:
    """The engine of the settings' database; its connections carry the settings' clock."""
    engine = _make_engine(settings)
    bind_clock(engine, settings.clock)
    return engine


def _make_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)
        # Let our transaction boundaries be the real ones: pysqlite's own implicit BEGIN
        # handling would otherwise defer the BEGIN and break "whole batch or nothing".
        event.listen(
            engine,
            "connect",
            _sqlite_pragmas(settings.sqlite_cache_kib, settings.db_busy_timeout_s),
        )

        @event.listens_for(engine, "connect")
        def _no_implicit_tx(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        queue = _writer_queue(url.database)
        busy_timeout_s = settings.db_busy_timeout_s

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A read-only transaction (READ_ONLY option) takes no write lock, so that readers
            # of the portal never queue behind one another or behind a delivery.
            if conn.get_execution_options().get(READ_ONLY, False):
                conn.exec_driver_sql("BEGIN")
            elif queue is None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                queue.begin(conn, busy_timeout_s)

        if queue is not None:
            queue.watch(engine)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # No pool_pre_ping: it cost every request a round trip (a 联合奖惩 check is seven
    # statements). A connection is pinged only when it comes out of the pool after lying idle
    # (``_ping_if_idle``), which is when a server restart or a firewall may have cut it.
    pg = create_engine(url, future=True)
    lock_timeout_ms = int(settings.db_busy_timeout_s * 1000)

    @event.listens_for(pg, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(pg, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # new, or back in the pool moments ago
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT 1")
            dbapi_conn.rollback()  # end the transaction the driver began for the ping
        except Exception as exc:
            # the pool drops this connection and checks out another (a new one if need be)
            raise DisconnectionError("the pooled connection no longer answers") from exc

    @event.listens_for(pg, "connect")
    def _bounded_lock_wait(dbapi_conn: Any, _record: Any) -> None:
        # The same bound as SQLite's busy_timeout: a statement that waits longer for a lock
        # (a delivery holding rows or tables) fails with lock_not_available, which is_busy
        # recognises (web 503, command line exit 3), instead of waiting without end.
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET lock_timeout = {lock_timeout_ms}")
        dbapi_conn.commit()

    return pg


class _WriterQueue:
    """The writers of one SQLite file in this process, queued on a lock held from
    ``BEGIN IMMEDIATE`` to the commit or rollback.

    SQLite lets one writer in at a time, and the others wait in its busy handler, which
    sleeps and retries (up to 100 ms a sleep): under 16 concurrent checks a writer slept
    while the lock stood free, and the slowest waited seconds (bench/check.py: p99 1.3-2.6 s
    against 0.18 s queued here). The lock only orders this process's writers: SQLite's own
    lock still keeps out every other writer (another process, a transaction begun without
    this queue), for which the busy handler waits as before.

    It cannot deadlock a thread on itself: a thread that already holds the lock through
    another connection (a nested write transaction, which SQLite refuses after its busy
    timeout anyway) does not wait for it, and goes straight to ``BEGIN IMMEDIATE`` as before.
    A wait for the lock is bounded by the busy timeout; after it, ``BEGIN IMMEDIATE`` is
    tried once without waiting, so that a writer stuck elsewhere (another process's delivery)
    still ends in SQLite's own "database is locked", which ``is_busy`` recognises.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None  # the thread holding the lock
        self._holder: Any = None  # and the DBAPI connection whose transaction holds it

    def begin(self, conn: Connection, timeout_s: float) -> None:
        """``BEGIN IMMEDIATE`` in turn; ``timeout_s`` is the engine's busy timeout."""
        dbapi = conn.connection.dbapi_connection
        if self._owner == threading.get_ident():
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        if not _acquire_within(self._lock, timeout_s):
            _begin_without_waiting(conn)
            return
        self._owner, self._holder = threading.get_ident(), dbapi
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.release(dbapi)
            raise

    def release(self, dbapi: Any) -> None:
        """End the hold of ``dbapi`` (a DBAPI connection, or the pool's proxy of one) on the
        lock, if it holds it (idempotent)."""
        dbapi = getattr(dbapi, "dbapi_connection", dbapi)
        if dbapi is not None and self._holder is dbapi:
            self._owner = self._holder = None
            self._lock.release()

    def watch(self, engine: Engine) -> None:
        """Release the lock once a transaction's COMMIT or ROLLBACK has run (not before, or
        the next writer would find SQLite's lock still taken), and whenever a connection goes
        back to the pool or is closed or invalidated with a transaction still holding it."""
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi: Any) -> None:
            try:
                commit(dbapi)
            finally:
                self.release(dbapi)

        def do_rollback(dbapi: Any) -> None:
            try:
                rollback(dbapi)
            finally:
                self.release(dbapi)

        # instance attributes: this engine's dialect only (the pool resets through it too)
        dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]
        for name in ("checkin", "close", "invalidate", "soft_invalidate", "detach"):
            event.listen(engine, name, self._on_pool_event)

    def _on_pool_event(self, dbapi: Any, *_args: Any) -> None:
        self.release(dbapi)


def _acquire_within(lock: threading.Lock, timeout_s: float) -> bool:
    """Take ``lock`` within ``timeout_s``, by tries between short sleeps.

    Not ``lock.acquire(timeout=…)``: CPython waits for that on an absolute deadline of the
    monotonic clock, which libfaketime (the suite run with the clock a year ahead) shifts
    and the kernel does not, so a wait that should give up never returned. A sleep is
    relative. The pause doubles from 0.2 ms to 2 ms: a waiter is in within 2 ms of the
    lock's release, against SQLite's busy handler's sleeps of up to 100 ms."""
    if lock.acquire(blocking=False):
        return True
    deadline = time.monotonic() + timeout_s
    pause = 0.0002
    while True:
        time.sleep(pause)
        if lock.acquire(blocking=False):
            return True
        if time.monotonic() >= deadline:
            return False
        pause = min(pause * 2, 0.002)


def _begin_without_waiting(conn: Connection) -> None:
    """``BEGIN IMMEDIATE`` with SQLite's busy handler off for this one statement."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        waited = cur.execute("PRAGMA busy_timeout").fetchone()[0]
        cur.execute("PRAGMA busy_timeout=0")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            cur.execute(f"PRAGMA busy_timeout={int(waited)}")
    finally:
        cur.close()


# One queue per SQLite file in the process, shared by every engine on it (a command and the
# application may open the same file twice); none for an in-memory database. Kept while an
# engine on the file lives (its begin listener holds the queue).
_WRITER_QUEUES: weakref.WeakValueDictionary[str, _WriterQueue] = weakref.WeakValueDictionary()
_WRITER_QUEUES_LOCK = threading.Lock()


def _writer_queue(database: str | None) -> _WriterQueue | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = str(Path(database).resolve())
    with _WRITER_QUEUES_LOCK:
        queue = _WRITER_QUEUES.get(key)
        if queue is None:
            queue = _WRITER_QUEUES[key] = _WriterQueue()
        return queue


# A PostgreSQL connection that lay in the pool longer than this is pinged before it is used.
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE = "xinyong_idle_since"


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means "another writer holds the lock" (and nothing else):
    SQLite's ``database is locked`` after busy_timeout, PostgreSQL's lock_not_available
    (55P03, after lock_timeout)."""
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "55P03":
        return True
    text = str(orig)
    return "database is locked" in text or "database table is locked" in text


def read_only(conn: Connection) -> Connection:
    """Mark a connection, before its transaction begins, as one that will only read."""
    return conn.execution_options(**{READ_ONLY: True})


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def beijing_date(conn: Connection, column: Any) -> Any:
    """The Beijing calendar date of a stored UTC timestamp, as a SQL expression: what people
    mean by "the day it was received". SQLite keeps timestamps as UTC text."""
    if is_sqlite(conn):
        return func.date(column, "+8 hours", type_=Date)
    return cast(func.timezone("Asia/Shanghai", column), Date)


def dumps(value: Any) -> str:
    """Compact JSON text for stored documents (Chinese stays readable); orjson, as it runs
    on every row of a bulk load."""
    return orjson.dumps(value).decode()


def bulk_insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    one_statement: bool = False,
) -> None:
    """Insert many rows as fast as the dialect allows: COPY on PostgreSQL, executemany on SQLite.

    JSON columns must be given already serialised (``dumps``): both paths pass text through.
    ``one_statement``: on SQLite, one ``INSERT … SELECT`` over the rows passed as one JSON array
    (``json_each``), for a table whose triggers write to a full-text index: FTS5 flushes its
    pending terms at the end of every statement, and a statement per row (executemany) made
    each subject's trigram entry a segment of its own (2.1 s for 10,716 subjects against
    0.55 s in one statement, measured). For tables without such triggers executemany is
    faster (records: 1.6–2.5 s against 4.9 s).
    """
    if is_sqlite(conn):
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        try:
            if one_statement:
                # scalar values only (text, numbers, NULL): json_extract gives them back as such
                values = ",".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
                sql = (
                    f"INSERT INTO {table.name} ({','.join(columns)}) "
                    f"SELECT {values} FROM json_each(?) ORDER BY key"
                )
                cur.execute(sql, (dumps(list(rows)),))
            else:
                placeholders = ",".join("?" for _ in columns)
                sql = f"INSERT INTO {table.name} ({','.join(columns)}) VALUES ({placeholders})"
                cur.executemany(sql, rows)
        finally:
            cur.close()
        return
    raw_pg: Any = conn.connection.driver_connection
    with (
        raw_pg.cursor() as cur,
        cur.copy(f"COPY {table.name} ({','.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


_IN_CHUNK = 2000  # bound parameters per IN (...) on SQLite; far below its limit


def rows_by_keys(
    conn: Connection,
    columns: Sequence[Any],
    key_column: Any,
    keys: Iterable[Any],
    *where: Any,
) -> Iterator[Row[Any]]:
    """Rows whose ``key_column`` is one of ``keys``, always as index lookups.

    SQLite: ``IN (...)`` in chunks. PostgreSQL: a join with ``unnest(array)``. A long IN list
    on a table filled in the same transaction has no statistics, and PostgreSQL's default
    selectivity (0.5 % per element) then turns 2,000 keys into a sequential scan per chunk,
    making a bulk load quadratic; the join is planned as a nested loop over the index.
    """
    values = sorted(set(keys))
    if not values:
        return
    # The keys are passed at execution, never embedded in the statement: SQLAlchemy's
    # statement cache would otherwise keep every key list alive (memory growing with N).
    if is_sqlite(conn):
        stmt = select(*columns).where(key_column.in_(bindparam("keys", expanding=True)), *where)
        for i in range(0, len(values), _IN_CHUNK):
            yield from conn.execute(stmt, {"keys": values[i : i + _IN_CHUNK]})
        return
    element = key_column.type if not isinstance(key_column.type, String) else Text()
    wanted = (
        func.unnest(bindparam("keys", type_=postgresql.ARRAY(element)))
        .table_valued("k")
        .render_derived()
    )
    stmt = (
        select(*columns)
        .select_from(key_column.table.join(wanted, key_column == wanted.c.k))
        .where(*where)
    )
    yield from conn.execute(stmt, {"keys": values})


class DriverStatement:
    """A Core statement compiled once per dialect to the driver's own SQL and run with
    ``exec_driver_sql``: for the statements of the hot paths (a 联合奖惩 check, an audit
    append), where SQLAlchemy's per-execution work (the compiled cache's lookup, building
    the parameters, binding through each type) cost as much as the statement itself.

    The parameters are bound by the same type processors Core would use (dates and times
    as SQLite's text, JSON serialised), so the stored rows are the same; errors are wrapped
    as Core's are (``is_busy`` still recognises them). Rows come back as the driver gives
    them: a caller reading dates or JSON on SQLite converts them (``result_processors``).
    Statements with expanding (IN list) parameters are refused.
    """

    def __init__(self, stmt: Any, keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.keys = list(keys) if keys is not None else None
        self._by_dialect: dict[str, tuple[str, tuple[tuple[str, Any, Any], ...], bool]] = {}

    def _compiled(self, dialect: Any) -> tuple[str, tuple[tuple[str, Any, Any], ...], bool]:
        compiled = self.stmt.compile(dialect=dialect, column_keys=self.keys)
        sql = compiled.string
        if "POSTCOMPILE" in sql:
            raise ValueError("expanding parameters cannot be run as driver SQL")
        positional = compiled.positional
        names = list(compiled.positiontup or ()) if positional else list(compiled.binds)
        binds = []
        for name in names:
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            default = bind.effective_value if not bind.required else _REQUIRED
            binds.append((compiled.escaped_bind_names.get(name, name), processor, default))
        return sql, tuple(binds), positional

    def execute(self, conn: Connection, params: dict[str, Any]) -> Any:
        name = conn.dialect.name
        prepared = self._by_dialect.get(name)
        if prepared is None:
            prepared = self._by_dialect[name] = self._compiled(conn.dialect)
        sql, binds, positional = prepared
        values = []
        for key, processor, default in binds:
            value = params.get(key, default)
            if value is _REQUIRED:
                raise KeyError(f"a value is required for {key!r}")
            # a processor sees None too, as in Core (JSON stores None as the text 'null')
            values.append(processor(value) if processor is not None else value)
        if positional:
            return conn.exec_driver_sql(sql, tuple(values))
        return conn.exec_driver_sql(sql, dict(zip((b[0] for b in binds), values, strict=True)))


_REQUIRED = object()


def result_processors(dialect: Any, columns: Sequence[Any]) -> list[Any]:
    """Core's conversion of each selected column's raw value (text dates of SQLite to
    ``date``, JSON text to objects), for rows read through ``DriverStatement``."""
    return [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]


def _lock_key(key: int) -> Any:
    # the key combined with the current schema: each schema holds its own chains, so tenants
    # and parallel test schemas do not queue behind one another
    return bindparam("key", key, type_=BigInteger).op("#")(
        func.hashtext(func.current_schema()).cast(BigInteger)
    )


def limit_lock_wait(conn: Connection, timeout_s: float) -> None:
    """Turn an endless wait for a lock in this transaction into an error after ``timeout_s``
    (PostgreSQL's lock_timeout; SQLite's busy_timeout of ``make_engine`` bounds it already)."""
    if not is_sqlite(conn):
        conn.execute(select(func.set_config("lock_timeout", f"{int(timeout_s * 1000)}ms", True)))


# The first chain whose lock is free, in one round trip: generate_series yields 1..n in order
# and the LIMIT stops at the first lock taken, so no other lock is held (a lock this
# transaction already holds is taken again at once: advisory locks are re-entrant).
_FREE = (
    "SELECT c FROM generate_series(1, :n) AS c"
    " WHERE pg_try_advisory_xact_lock((:key + c - 1) # hashtext(current_schema())::bigint)"
    " LIMIT 1"
)
_FREE_CHAIN = text(_FREE).bindparams(bindparam("key", type_=BigInteger))


def take_chain(conn: Connection, key: int, chains: int) -> int:
    """Hold one of ``chains`` appending chains (1..chains) until the transaction ends, and
    say which: the first free one, so that concurrent writers append side by side instead of
    queueing on one lock, and a lone writer always appends to chain 1.

    PostgreSQL: transaction-scoped advisory locks on ``key + chain - 1`` (with the schema);
    when every chain is busy, wait for one chosen by the backend's pid (``limit_lock_wait``
    bounds the wait). SQLite has one writer at a time (BEGIN IMMEDIATE): always chain 1.
    """
    if is_sqlite(conn):
        return 1
    free = conn.execute(_FREE_CHAIN, {"n": chains, "key": key}).scalar()
    if free is not None:
        return int(free)
    chain = 1 + int(conn.execute(select(func.pg_backend_pid())).scalar_one()) % chains
    conn.execute(select(func.pg_advisory_xact_lock(_lock_key(key + chain - 1))))
    return chain


def take_chain_reading(
    conn: Connection, key: int, chains: int, table: Table
) -> tuple[int, Row[Any] | None]:
    """``take_chain``, and the row of ``table`` whose ``id`` is the chain taken (None when there
    is none, and always on SQLite, where taking a chain costs no statement), read in the same
    round trip on PostgreSQL. That read comes from the statement's snapshot, taken before the
    lock: when another transaction held the chain and committed in between, the row is older
    than its commit. A caller must treat it as a guess and check it (the audit append moves
    its chain's head only where the head still is what it read)."""
    if is_sqlite(conn):
        return 1, None
    stmt = _FREE_CHAIN_ROWS.get(table.name)
    if stmt is None:
        names = ", ".join(f"t.{c.name}" for c in table.c)
        stmt = _FREE_CHAIN_ROWS[table.name] = (
            text(
                f"SELECT free.c AS free_chain, {names} FROM ({_FREE}) AS free"
                f" LEFT JOIN {table.name} AS t ON t.id = free.c"
            )
            .bindparams(bindparam("key", type_=BigInteger))
            .columns(column("free_chain", Integer), *table.c)
        )
    row = conn.execute(stmt, {"n": chains, "key": key}).first()
    if row is None:  # every chain busy: wait for one as take_chain does
        return take_chain(conn, key, chains), None
    return int(row.free_chain), row if row.id is not None else None


# Built once per table (statements rebuilt per call cost SQLAlchemy more than the round trip).
_FREE_CHAIN_ROWS: dict[str, TextualSelect] = {}


def refresh_statistics(engine: Engine, tables: Sequence[str]) -> None:
    """PostgreSQL: ANALYZE ``tables`` now rather than when autovacuum gets round to it. After a
    large delivery the planner's counts of a table that was near empty send readers down a
    plan fit for a dozen rows (the portal's name search took 1.8 s during a second delivery).
    SQLite plans by its indexes and needs nothing. A role that does not own the tables gets a
    warning from PostgreSQL, not an error."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(text(f"ANALYZE {', '.join(tables)}"))


def timestamp_param(conn: Connection, value: datetime) -> str:
    """A timestamp as text that the driver-level bulk path can pass straight through.

    SQLAlchemy keeps SQLite timestamps as naive UTC text; PostgreSQL parses ISO 8601 with offset.
    """
    if is_sqlite(conn):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def upgrade_schema(engine: Engine) -> None:
    """Build or migrate the schema to the newest Alembic revision."""
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*"([^"]*)"', re.MULTILINE)


def migration_head() -> str:
    """The newest revision of ``migrations/versions``: the one no other revises. Read from the
    files' own ``revision`` / ``down_revision`` lines rather than through Alembic, whose import
    and loading of every migration module cost a command's start a quarter of a second;
    ``tests/test_schema_state.py`` holds it to Alembic's own answer."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (Path(__file__).resolve().parent / "migrations" / "versions").glob("*.py"):
        for key, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else revised).add(value)
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def schema_is_current(engine: Engine) -> bool:
    """Whether the database is at the newest Alembic revision."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return current == [migration_head()]


def alembic_config() -> Any:
    from alembic.config import Config

    root = Path(__file__).resolve().parent / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(root))
    return cfg


class greatest(GenericFunction[Any]):
    """The largest of its arguments: GREATEST on PostgreSQL, the scalar max() on SQLite. Bounds
    a value without repeating it (a CASE would name it twice, and nested bounds then grow the
    statement exponentially)."""

    inherit_cache = True


class least(GenericFunction[Any]):
    """The smallest of its arguments: LEAST on PostgreSQL, the scalar min() on SQLite."""

    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


class text_position(GenericFunction[int]):
    """Where its second argument first occurs in its first (1-based; 0 when it does not):
    strpos on PostgreSQL, instr on SQLite. ``text_position(x, y) > 0`` is ``x LIKE '%y%'``
    without wildcards, and PostgreSQL judges its selectivity as any comparison (a third of
    the rows) rather than as a pattern over an expression it has no statistics of (a few in a
    hundred thousand), which made it sort a whole dataset for a page of 21 rows."""

    type = Integer()
    inherit_cache = True


@compiles(text_position)
def _text_position(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(text_position, "sqlite")
def _text_position_sqlite(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


class unindexed(GenericFunction[Any]):
    """Its one argument, which SQLite must not answer from an index (``+x``, SQLite's way of
    saying so). A pass over most of a table is a scan in table order; walking an index instead
    fetches every row at random. PostgreSQL chooses by its statistics: the bare column."""

    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"(+{compiler.process(element.clauses, **kw)})"
