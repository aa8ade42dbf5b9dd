"""Evidence and material uploaded to a case (证据材料).

Recognised by their first bytes (the name a file comes with proves nothing), limited in size
and number, stored under random names in ``<data_dir>/cases`` (outside anything the web server
serves), checked against their SHA-256 when read back, and only ever sent as a download
(``Content-Disposition: attachment``), never shown inline.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from xinyong import clock
from xinyong.cases.models import case_files
from xinyong.errors import Conflict, NotFound, XinyongError

_MIB = 1024 * 1024
MAX_FILE_BYTES = 10 * _MIB
MAX_FILES = 5
FILE_DIR = "cases"

_TYPES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "pdf", ".pdf"),
    (b"\xff\xd8\xff", "jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "png", ".png"),
)
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Every upload with its (type, extension), or ``CASE_FILE_REFUSED`` naming the file."""
    if len(uploads) > MAX_FILES:
        raise XinyongError("CASE_FILE_REFUSED", f"证据材料最多 {MAX_FILES} 个文件")
    out = []
    for up in uploads:
        label = Path(up.name or "").name[:80] or "未命名文件"
        if not up.content:
            raise XinyongError("CASE_FILE_REFUSED", f"文件“{label}”为空")
        if len(up.content) > MAX_FILE_BYTES:
            raise XinyongError(
                "CASE_FILE_REFUSED",
                f"文件“{label}”过大（{len(up.content) / _MIB:.1f} MB），"
                f"每个文件最大 {MAX_FILE_BYTES // _MIB} MB",
            )
        for magic, kind, ext in _TYPES:
            if up.content.startswith(magic):
                out.append((up, kind, ext))
                break
        else:
            raise XinyongError(
                "CASE_FILE_REFUSED", f"文件“{label}”须为 PDF、JPEG 或 PNG（按文件内容识别）"
            )
    return out


def _write(folder: Path, content: bytes, ext: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ext
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    return name


def store(
    conn: Connection,
    data_dir: Path,
    case_id: int,
    event_id: int | None,
    checked: list[tuple[Upload, str, str]],
    uploaded_by: str,
) -> list[int]:
    """Write the checked files, then their rows (a file without a row is harmless; a row
    without a file is not: the order matters)."""
    folder = Path(data_dir) / FILE_DIR
    ids = []
    for up, kind, ext in checked:
        stored = _write(folder, up.content, ext)
        ids.append(
            int(
                conn.execute(
                    insert(case_files)
                    .values(
                        case_id=case_id,
                        event_id=event_id,
                        stored_name=stored,
                        original_name=Path(up.name or "").name[:200] or None,
                        media_type=kind,
                        size=len(up.content),
                        sha256=hashlib.sha256(up.content).hexdigest(),
                        uploaded_by=uploaded_by,
                        uploaded_at=clock.now(conn),
                    )
                    .returning(case_files.c.id)
                ).scalar_one()
            )
        )
    return ids


def files_of(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            case_files.c.id,
            case_files.c.original_name,
            case_files.c.media_type,
            case_files.c.size,
            case_files.c.sha256,
            case_files.c.uploaded_by,
            case_files.c.uploaded_at,
        )
        .where(case_files.c.case_id == case_id)
        .order_by(case_files.c.id)
    ).all()
    return [dict(r._mapping) for r in rows]


def read(conn: Connection, data_dir: Path, case_id: int, file_id: int) -> tuple[bytes, str, str]:
    """(content, content type, download name) of one file of the case; the caller has checked
    who may see the case. A file that no longer matches its digest is refused."""
    row = conn.execute(
        select(case_files).where(case_files.c.id == file_id, case_files.c.case_id == case_id)
    ).first()
    if row is None:
        raise NotFound("CASE_FILE_NOT_FOUND", "没有这个材料文件")
    content = (Path(data_dir) / FILE_DIR / row.stored_name).read_bytes()
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise Conflict("CASE_FILE_ALTERED", "材料文件与上传时的摘要不符，拒绝提供")
    ext = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}[row.media_type]
    return content, CONTENT_TYPES[row.media_type], f"material-{row.id}{ext}"
