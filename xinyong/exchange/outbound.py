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
from sqlalchemy import Connection, String, Text, cast, func, insert, select

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
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


def _changes_query(after: int) -> Any:
    """The shared changes after ``after`` with what a body line needs, oldest first."""
    c, r, s = exchange_changes, records, subjects
    return (
        select(
            c.c.seq,
            c.c.operation,
            c.c.event,
            c.c.dataset,
            c.c.dept_uscc,
            c.c.state,
            c.c.version,
            r.c.natural_key,
            cast(r.c.data, Text).label("data"),
            cast(r.c.decision_date, String).label("decision_date"),
            s.c.name,
            s.c.uscc,
            s.c.id_number,
        )
        .select_from(c.join(r, r.c.id == c.c.record_id).outerjoin(s, s.c.id == r.c.subject_id))
        .where(c.c.seq > after, c.c.shared.is_(True))
        .order_by(c.c.seq)
    )


def _rows(conn: Connection, after: int) -> Iterator[Any]:
    # on the statement: Connection.execution_options would change the connection for good
    result = conn.execute(_changes_query(after).execution_options(yield_per=STREAM_ROWS))
    try:
        yield from result
    finally:
        result.close()


def body_line(row: Any) -> bytes:
    """One body line; the record's JSON text is spliced in as stored."""
    head = orjson.dumps(
        {
            "seq": row.seq,
            "op": row.operation,
            "event": row.event,
            "key": row.natural_key,
            "dataset": row.dataset,
            "dept_uscc": row.dept_uscc,
            "subject": {"name": row.name, "uscc": row.uscc, "id_number": row.id_number},
            "state": row.state,
            "version": row.version,
            "decision_date": row.decision_date,
        }
    )
    if row.operation == "DEL":
        return head + b"\n"
    data: str = row.data
    return head[:-1] + b',"data":' + data.encode() + b"}\n"


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

    def add(self, row: Any) -> None:
        self.writer.write(body_line(row))
        h = self.header
        h.records += 1
        h.counts[row.operation] += 1
        if h.first_seq is None:
            h.first_seq = row.seq
        h.last_seq = row.seq


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

    def close(pkg: _Open) -> None:
        pkg.header.checksum = pkg.writer.close()
        pkg.header.body_bytes = pkg.writer.bytes
        write_header(output, pkg.stem, pkg.header)
        _register(conn, principal, pkg, peer.node_id, at)
        result.packages.append(pkg.header.as_dict() | {"file": f"{pkg.stem}.head.json"})

    for row in _rows(conn, after):
        pkg = open_by_dataset.get(row.dataset)
        if pkg is None:
            made += 1
            pkg = open_by_dataset[row.dataset] = _Open(
                output, nodes, peer.node_id, row.dataset, made, at
            )
        pkg.add(row)
        result.next_seq = row.seq
        if pkg.writer.bytes >= limit:
            close(pkg)
            del open_by_dataset[row.dataset]
    for pkg in open_by_dataset.values():
        close(pkg)
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
    for row in conn.execute(_changes_query(after).limit(limit + 1)):
        if len(items) == limit:
            has_more = True
            break
        items.append(orjson.loads(body_line(row)))
    next_seq = items[-1]["seq"] if items else after
    return {"items": items, "next": feed.encode_cursor(next_seq), "has_more": has_more}
