"""Data packages (数据包) after GB/T 39443-2020's file interface.

A package is two UTF-8 files sharing one stem: the header (包头) ``STEM.head.json`` and the
body (包体) ``STEM.body.jsonl``, one record per line. The header names the package (GUID), when
it was made, the source and target nodes, the dataset, the counts per operation, the feed range
it covers and the SHA-256 of the body; the receiver checks the body against it before reading a
record. Two files instead of one let the body be written in one pass, hashed as it streams,
and split by size without holding anything in memory.

Body line: ``{"seq", "op" (ADD/MOD/DEL), "event", "key" (the record's natural key), "dataset",
"dept_uscc", "subject": {"name", "uscc", "id_number"}, "state", "version", "decision_date",
"data": {item code: value}}``; a DEL line carries no ``data``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from xinyong.errors import XinyongError

FORMAT = "xinyong-gbt39443-file/1"
HEAD_SUFFIX = ".head.json"
BODY_SUFFIX = ".body.jsonl"
OPERATIONS = ("ADD", "MOD", "DEL")


@dataclass
class Header:
    guid: str
    created_at: str  # ISO 8601 with the Beijing offset
    source_node: str
    target_node: str
    dataset: str
    body_file: str
    records: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    first_seq: int | None = None
    last_seq: int | None = None
    body_bytes: int = 0
    checksum: str = ""  # SHA-256 of the body file, hex

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "package_id": self.guid,
            "created_at": self.created_at,
            "source_node": self.source_node,
            "target_node": self.target_node,
            "dataset": self.dataset,
            "record_count": self.records,
            "counts": self.counts,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "encoding": "UTF-8",
            "body_file": self.body_file,
            "body_bytes": self.body_bytes,
            "checksum": {"algorithm": "SHA-256", "value": self.checksum},
        }


class BodyWriter:
    """Writes one package body, one line per record, hashing and counting as it goes (in
    blocks of about 1 MiB: a hash update and a write per line would cost more than the line)."""

    BLOCK = 1 << 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] = path.open("wb")
        self._hash = hashlib.sha256()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self.bytes = 0

    def write(self, line: bytes) -> None:
        """One record's line, without its line end."""
        self._pending.append(line)
        size = len(line) + 1
        self._pending_bytes += size
        self.bytes += size
        if self._pending_bytes >= self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._pending.append(b"")
            block = b"\n".join(self._pending)
            self._file.write(block)
            self._hash.update(block)
            self._pending = []
            self._pending_bytes = 0

    def close(self) -> str:
        self._flush()
        self._file.close()
        return self._hash.hexdigest()


def write_header(directory: Path, stem: str, header: Header) -> Path:
    path = directory / f"{stem}{HEAD_SUFFIX}"
    path.write_bytes(orjson.dumps(header.as_dict(), option=orjson.OPT_INDENT_2))
    return path


def _refuse(code: str, message: str) -> XinyongError:
    return XinyongError(code, message)


@dataclass(frozen=True)
class Package:
    """A package read back (inbound, or a test reading what we wrote)."""

    header: dict[str, Any]
    body_path: Path

    @property
    def guid(self) -> str:
        return str(self.header["package_id"])

    @property
    def dataset(self) -> str:
        return str(self.header["dataset"])

    @property
    def source_node(self) -> str:
        return str(self.header["source_node"])

    def records(self) -> Any:
        """The body's records, one dict per line, streamed."""
        with self.body_path.open("rb") as body:
            for n, line in enumerate(body, start=1):
                if not line.strip():
                    continue
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise _refuse(
                        "PACKAGE_BODY_INVALID", f"数据包包体第 {n} 行不是合法的 JSON"
                    ) from None
                if not isinstance(rec, dict) or rec.get("op") not in OPERATIONS:
                    raise _refuse(
                        "PACKAGE_BODY_INVALID",
                        f"数据包包体第 {n} 行缺少操作类型（ADD/MOD/DEL）",
                    )
                yield rec


def read_package(head_path: Path) -> Package:
    """Read a header, check its body's size and SHA-256; refuse a package that does not match."""
    try:
        header = json.loads(head_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise _refuse("PACKAGE_HEADER_INVALID", f"无法读取数据包包头：{head_path.name}") from None
    if not isinstance(header, dict):
        raise _refuse("PACKAGE_HEADER_INVALID", f"数据包包头格式有误：{head_path.name}")
    missing = [
        k
        for k in ("package_id", "source_node", "dataset", "record_count", "body_file", "checksum")
        if k not in header
    ]
    if missing:
        raise _refuse("PACKAGE_HEADER_INVALID", f"数据包包头缺少：{'、'.join(missing)}")
    body_name = str(header["body_file"])
    if "/" in body_name or "\\" in body_name or body_name.startswith("."):
        raise _refuse("PACKAGE_HEADER_INVALID", "数据包包头中的包体文件名无效")
    body = head_path.parent / body_name
    if not body.is_file():
        raise _refuse("PACKAGE_BODY_MISSING", f"找不到数据包包体：{body_name}")
    digest = hashlib.sha256()
    with body.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    checksum = header["checksum"]
    expected = checksum.get("value") if isinstance(checksum, dict) else checksum
    if digest.hexdigest() != str(expected).lower():
        raise _refuse("PACKAGE_CHECKSUM_MISMATCH", "数据包包体的 SHA-256 校验值与包头不符")
    return Package(header, body)
