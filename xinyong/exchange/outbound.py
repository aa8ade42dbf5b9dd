"""Outbound exchange (向省平台推送): data packages from the change feed, and the pull feed.

``export`` numbers what changed since the last capture, then streams every change others may
receive (``feed.shared_changes``) after a cursor into packages, one package per dataset, a new
one whenever a body passes the size limit of ``catalog/exchange/nodes.yaml``. The rows are read
through a server-side cursor and each body line is built from the record's stored JSON text,
never decoded, so memory stays flat whatever the number of changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, String, Text, case, cast, func, insert, select

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.db import is_sqlite
from xinyong.errors import NotAllowed, XinyongError
from xinyong.exchange import feed
from xinyong.exchange.models import exchange_changes, exchange_packages
from xinyong.exchange.nodes import Nodes, load_nodes
from xinyong.exchange.packages import BODY_SUFFIX, BodyWriter, Header, write_header
from xinyong.records.models import records
from xinyong.subjects.models import subjects

BEIJING = timezone(timedelta(hours=8))
STREAM_ROWS = 20_000


@dataclass
class ExportResult:
    since: int
    next_seq: int
    captured: int
    packages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def next_cursor(self) -> str:
        return feed.encode_cursor(self.next_seq)

    @property
    def records(self) -> int:
        return sum(p["record_count"] for p in self.packages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "next": self.next_cursor,
            "next_seq": self.next_seq,
            "captured": self.captured,
            "records": self.records,
            "packages": self.packages,
        }


def _json_object(sqlite: bool, *pairs: Any) -> Any:
    """A JSON object built by the database (keys in the order given)."""
    return (func.json_object if sqlite else func.json_build_object)(*pairs)


def _line(sqlite: bool) -> Any:
    """A body line as the database writes it: the record's stored JSON is embedded as it is,
    never decoded and encoded again in Python."""
    c, r, s = exchange_changes, records, subjects
    subject = _json_object(sqlite, "name", s.c.name, "uscc", s.c.uscc, "id_number", s.c.id_number)
    head: list[Any] = [
        "seq", c.c.seq, "op", c.c.operation, "event", c.c.event, "key", r.c.natural_key,
        "dataset", c.c.dataset, "dept_uscc", c.c.dept_uscc, "subject", subject,
        "state", c.c.state, "version", c.c.version,
        "decision_date", cast(r.c.decision_date, String),
    ]  # fmt: skip
    data = func.json(r.c.data) if sqlite else r.c.data
    return cast(
        case(
            (c.c.operation == "DEL", _json_object(sqlite, *head)),
            else_=_json_object(sqlite, *head, "data", data),
        ),
        Text,
    )


def _lines_query(conn: Connection, after: int) -> Any:
    """The shared changes after ``after``, oldest first: dataset, operation, seq, body line."""
    c, r, s = exchange_changes, records, subjects
    return (
        select(c.c.dataset, c.c.operation, c.c.seq, _line(is_sqlite(conn)).label("line"))
        .select_from(c.join(r, r.c.id == c.c.record_id).outerjoin(s, s.c.id == r.c.subject_id))
        .where(c.c.seq > after, c.c.shared.is_(True))
        .order_by(c.c.seq)
    )


# COPY's CSV form with a delimiter and a quote that JSON text never holds raw (it escapes every
# control character): each line arrives exactly as the database wrote it.
_SEP = b"\x02"
_COPY_OPTIONS = "(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


def _lines(conn: Connection, after: int) -> Iterator[tuple[str, str, int, bytes]]:
    """(dataset, operation, seq, line) of every shared change after ``after``, streamed: COPY
    on PostgreSQL (the fastest way out of it), a plain cursor on SQLite."""
    query = _lines_query(conn, after)
    if is_sqlite(conn):
        for row in conn.execute(query.execution_options(yield_per=STREAM_ROWS)):
            yield row.dataset, row.operation, row.seq, row.line.encode()
        return
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    raw: Any = conn.connection.driver_connection
    rest = b""
    with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT {_COPY_OPTIONS}") as copy:
        for block in copy:
            lines = (rest + bytes(block)).split(b"\n")
            rest = lines.pop()
            for text in lines:
                dataset, operation, seq, line = text.split(_SEP, 3)
                yield dataset.decode(), operation.decode(), int(seq), line
    if rest:
        dataset, operation, seq, line = rest.split(_SEP, 3)
        yield dataset.decode(), operation.decode(), int(seq), line


class _Open:
    """The package being written for one dataset."""

    def __init__(self, directory: Path, nodes: Nodes, target: str, dataset: str, n: int, at: Any):
        self.guid = str(uuid.uuid4())
        stamp = at.astimezone(BEIJING)
        self.stem = f"{nodes.node_id}-{target}-{dataset}-{stamp:%Y%m%d%H%M%S}-{n:04d}"
        self.header = Header(
            guid=self.guid,
            created_at=stamp.isoformat(timespec="seconds"),
            source_node=nodes.node_id,
            target_node=target,
            dataset=dataset,
            body_file=f"{self.stem}{BODY_SUFFIX}",
        )
        self.writer = BodyWriter(directory / self.header.body_file)

    def add(self, operation: str, seq: int, line: bytes) -> None:
        self.writer.write(line)
        h = self.header
        h.records += 1
        h.counts[operation] += 1
        if h.first_seq is None:
            h.first_seq = seq
        h.last_seq = seq


def export(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    *,
    since: str | None,
    output: Path,
    target: str | None = None,
    max_bytes: int | None = None,
) -> ExportResult:
    """Write the packages of every shared change after ``since`` (a cursor, a number, or None
    for where the last export ended) into ``output``; the caller commits."""
    require_role(principal, Role.OPERATOR)
    nodes = load_nodes(catalog.root)
    if not nodes.peers:
        raise XinyongError("EXCHANGE_NO_PEER", "未配置交换结点（catalog/exchange/nodes.yaml）")
    peer = nodes.peer(target) if target else nodes.peers[0]
    if not output.is_dir():
        raise XinyongError("EXPORT_DIR_MISSING", f"输出目录不存在：{output}")
    after = feed.decode_cursor(since) if since is not None else last_exported(conn, peer.node_id)
    captured = feed.capture(conn, catalog)
    limit = max_bytes or nodes.max_package_bytes
    at = clock.now(conn)
    result = ExportResult(since=after, next_seq=after, captured=captured)
    open_by_dataset: dict[str, _Open] = {}
    made = 0

    finished: list[_Open] = []

    def close(pkg: _Open) -> None:
        pkg.header.checksum = pkg.writer.close()
        pkg.header.body_bytes = pkg.writer.bytes
        write_header(output, pkg.stem, pkg.header)
        finished.append(pkg)

    for dataset, operation, seq, line in _lines(conn, after):
        pkg = open_by_dataset.get(dataset)
        if pkg is None:
            made += 1
            pkg = open_by_dataset[dataset] = _Open(output, nodes, peer.node_id, dataset, made, at)
        pkg.add(operation, seq, line)
        result.next_seq = seq
        if pkg.writer.bytes >= limit:
            close(pkg)
            del open_by_dataset[dataset]
    for pkg in open_by_dataset.values():
        close(pkg)
    # registered once the stream is over: the connection is busy with COPY until then
    for pkg in finished:
        _register(conn, principal, pkg, peer.node_id, at)
        result.packages.append(pkg.header.as_dict() | {"file": f"{pkg.stem}.head.json"})
    result.packages.sort(key=lambda p: p["first_seq"])
    if result.next_seq == after:
        result.next_seq = max(after, _last_shared(conn))
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="exchange.export",
        source=principal.source or None,
        detail={
            "target": peer.node_id,
            "since": after,
            "next": result.next_seq,
            "records": result.records,
            "packages": [p["package_id"] for p in result.packages],
        },
    )
    return result


def _last_shared(conn: Connection) -> int:
    c = exchange_changes
    return int(
        conn.execute(
            select(func.coalesce(func.max(c.c.seq), 0)).where(c.c.shared.is_(True))
        ).scalar_one()
    )


def last_exported(conn: Connection, node: str) -> int:
    """Where the last export to ``node`` ended (0 before the first)."""
    p = exchange_packages
    return int(
        conn.execute(
            select(func.coalesce(func.max(p.c.last_seq), 0)).where(
                p.c.direction == "out", p.c.node == node
            )
        ).scalar_one()
    )


def _register(conn: Connection, principal: Principal, pkg: _Open, node: str, at: Any) -> None:
    h = pkg.header
    conn.execute(
        insert(exchange_packages).values(
            guid=h.guid,
            direction="out",
            node=node,
            dataset=h.dataset,
            file_name=f"{pkg.stem}.head.json",
            first_seq=h.first_seq,
            last_seq=h.last_seq,
            records=h.records,
            adds=h.counts["ADD"],
            mods=h.counts["MOD"],
            dels=h.counts["DEL"],
            checksum=h.checksum,
            status="sent",
            actor=principal.name,
            created_at=at,
        )
    )


# The pull feed for platforms that poll (服务方式接口) -------------------------------------------

MAX_PULL = 1000


def require_puller(principal: Principal, nodes: Nodes) -> None:
    """An operator, or the system account of a peer node (its department's token)."""
    if principal.role is Role.OPERATOR:
        return
    if principal.role is Role.DEPT_SYSTEM and nodes.peer_of_dept(principal.dept_uscc):
        return
    raise NotAllowed("EXCHANGE_PULL_NOT_ALLOWED", "只有已登记交换结点的系统账号可以拉取变更数据")


def pull(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int = 500,
) -> dict[str, Any]:
    """The shared changes after ``cursor``, each as a body line of a package, and the next
    cursor. Reads only what earlier captures numbered (after a batch, daily, on export)."""
    require_puller(principal, load_nodes(catalog.root))
    if not 1 <= limit <= MAX_PULL:
        raise XinyongError("LIMIT_INVALID", f"每次读取的条数应在 1 到 {MAX_PULL} 之间")
    after = feed.decode_cursor(cursor)
    items: list[Any] = []
    has_more = False
    for row in conn.execute(_lines_query(conn, after).limit(limit + 1)):
        if len(items) == limit:
            has_more = True
            break
        items.append(orjson.loads(row.line))
    next_seq = items[-1]["seq"] if items else after
    return {"items": items, "next": feed.encode_cursor(next_seq), "has_more": has_more}
