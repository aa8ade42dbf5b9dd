"""Inbound exchange (接收省级、国家平台下发数据): a data package from a peer node goes through the
same validation and linking as a department's delivery.

The package is checked against its header (size, SHA-256), its source must be a registered node
allowed to send the dataset (``catalog/exchange/nodes.yaml``), and its ADD and MOD records are
written as a JSON-lines file of item codes and ingested as a delivery of the node's department
(registered on first use, audited): the same row checks, subject linking, list lifecycle and
receipt as any batch, with the node as the source. A DEL withdraws the node's own record of that
key. The package is then registered with its verification deadline (5 working days, Henan
art. 17; ``exchange.verify``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.departments import service as departments
from xinyong.errors import FileRefused
from xinyong.exchange.nodes import Peer, load_nodes
from xinyong.exchange.packages import read_package
from xinyong.exchange.verify import Received, record_received
from xinyong.ingest.receipt import Receipt
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.records import service as records_service
from xinyong.records import states
from xinyong.records.models import records


@dataclass(frozen=True)
class Inbound:
    package: Received
    receipt: Receipt
    withdrawn: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "package": self.package.as_dict(),
            "receipt": self.receipt.as_dict(),
            "withdrawn": self.withdrawn,
        }


def _peer_department(conn: Connection, catalog: Catalog, principal: Principal, peer: Peer) -> None:
    """The node delivers as a department; registered (audited) the first time it sends."""
    dept = departments.find(conn, peer.dept_uscc)
    if dept is None:
        departments.add(
            conn,
            catalog,
            principal,
            uscc=peer.dept_uscc,
            name=peer.name,
            datasets=list(peer.inbound),
            division=peer.division,
        )


def _relaying(catalog: Catalog, peer: Peer) -> Catalog:
    """The catalogue as the node's delivery is checked with: the node may deliver every list
    kind of the datasets it sends down. The designation was made by the designating authority
    and checked by the sending platform; the node only relays it (the kind is still checked)."""
    designated = dict(catalog.lists.designated_by)
    for kind in catalog.lists.kinds.values():
        if kind.dataset in peer.inbound:
            designated[kind.code] = designated.get(kind.code, frozenset()) | {peer.dept_uscc}
    return replace(catalog, lists=replace(catalog.lists, designated_by=designated))


def receive(conn: Connection, catalog: Catalog, principal: Principal, head_path: Path) -> Inbound:
    """Ingest the package whose header is ``head_path``; the caller commits."""
    require_role(principal, Role.OPERATOR)
    package = read_package(head_path)
    nodes = load_nodes(catalog.root)
    peer = nodes.peer(package.source_node)
    dataset = catalog.dataset(package.dataset)
    if dataset.code not in peer.inbound:
        raise FileRefused(
            "EXCHANGE_DATASET_NOT_ALLOWED",
            f"交换结点“{peer.name}”未被配置下发“{dataset.name}”（{dataset.code}）",
        )
    _peer_department(conn, catalog, principal, peer)
    deletes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xinyong-inbound-") as tmp:
        rows = Path(tmp) / f"{package.guid}.jsonl"
        with rows.open("wb") as out:
            for rec in package.records():
                if rec["op"] == "DEL":
                    deletes.append(str(rec.get("key") or ""))
                    continue
                data = rec.get("data")
                if isinstance(data, dict):
                    if dataset.source_dept_code:
                        # for this platform the node is the source; the unit that decided
                        # stays in the record's own items (执行法院, 认定部门)
                        data[dataset.source_dept_code] = peer.dept_uscc
                    out.write(orjson.dumps(data) + b"\n")
        receipt = ingest(
            conn,
            _relaying(catalog, peer),
            IngestRequest(
                path=rows,
                dataset=dataset.code,
                dept_uscc=peer.dept_uscc,
                actor=principal.name,
                channel="exchange",
                file_name=package.body_path.name,
                role=principal.role.value,
                source=f"node:{peer.node_id}",
            ),
        )
    withdrawn = _withdraw(conn, dataset.code, peer, deletes, principal)
    assert receipt.batch_id is not None
    received = record_received(
        conn,
        catalog_root=catalog.root,
        verify_days=nodes.verify_working_days,
        header=package.header,
        file_name=head_path.name,
        batch_id=receipt.batch_id,
        actor=principal.name,
    )
    return Inbound(received, receipt, withdrawn)


def _withdraw(
    conn: Connection, dataset: str, peer: Peer, keys: list[str], principal: Principal
) -> int:
    """Withdraw the node's records named by DEL lines (others' records are never touched)."""
    done = 0
    for key in keys:
        found = conn.execute(
            select(records.c.id, records.c.state).where(
                records.c.dataset == dataset,
                records.c.natural_key == key,
                records.c.dept_uscc == peer.dept_uscc,
            )
        ).first()
        if found is None or found.state == states.WITHDRAWN:
            continue
        records_service.withdraw(
            conn,
            found.id,
            dept_uscc=peer.dept_uscc,
            reason=f"{peer.name}下发删除",
            actor=principal.name,
            role=principal.role.value,
            source=f"node:{peer.node_id}",
        )
        done += 1
    return done
