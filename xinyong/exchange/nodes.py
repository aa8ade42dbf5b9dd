"""The exchange nodes (交换结点): this platform and its peers, from ``catalog/exchange/nodes.yaml``
(operator-kept, read through ``yamlio``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xinyong import yamlio
from xinyong.errors import CatalogError, XinyongError


@dataclass(frozen=True)
class Peer:
    node_id: str
    name: str
    dept_uscc: str  # the department the node acts as (polling, inbound deliveries)
    division: str
    inbound: tuple[str, ...]  # datasets the node may send down


@dataclass(frozen=True)
class Nodes:
    node_id: str
    name: str
    peers: tuple[Peer, ...]
    max_package_bytes: int
    verify_working_days: int

    def peer(self, node_id: str) -> Peer:
        for p in self.peers:
            if p.node_id == node_id:
                return p
        raise XinyongError("EXCHANGE_NODE_UNKNOWN", f"未登记的交换结点：{node_id}")

    def peer_of_dept(self, dept_uscc: str | None) -> Peer | None:
        return next((p for p in self.peers if p.dept_uscc == dept_uscc), None)

    @property
    def peer_depts(self) -> tuple[str, ...]:
        return tuple(p.dept_uscc for p in self.peers)


_cache: dict[Path, tuple[float, Nodes]] = {}


def load_nodes(catalog_root: Path) -> Nodes:
    """The nodes of the catalogue at ``catalog_root`` (re-read when the file changes)."""
    path = catalog_root / "exchange" / "nodes.yaml"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise CatalogError("EXCHANGE_NODES_MISSING", f"缺少交换结点配置：{path}") from None
    hit = _cache.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    raw = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        me = raw["self"]
        nodes = Nodes(
            node_id=str(me["node_id"]),
            name=str(me["name"]),
            peers=tuple(
                Peer(
                    node_id=str(p["node_id"]),
                    name=str(p["name"]),
                    dept_uscc=str(p["dept_uscc"]),
                    division=str(p.get("division", p["node_id"])),
                    inbound=tuple(str(d) for d in p.get("inbound", ())),
                )
                for p in raw.get("peers", ())
            ),
            max_package_bytes=int(raw.get("max_package_bytes", 50 * 1024 * 1024)),
            verify_working_days=int(raw.get("verify_working_days", 5)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError("EXCHANGE_NODES_INVALID", f"{path}: 交换结点配置有误：{exc}") from None
    _cache[path] = (mtime, nodes)
    return nodes
