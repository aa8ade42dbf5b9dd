"""A delivery by a principal (部门报送): who may deliver for which department, and where an
uploaded file is kept. The web page, the API and the command line end here."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection

from xinyong.accounts.policy import acting_department
from xinyong.accounts.roles import Principal
from xinyong.catalog.loader import Catalog
from xinyong.errors import FileRefused
from xinyong.ingest.receipt import Receipt
from xinyong.ingest.service import IngestRequest, ingest


@contextmanager
def received_file(
    data_dir: Path, stream: BinaryIO, file_name: str, *, max_bytes: int
) -> Iterator[Path]:
    """Copy an upload to the platform's own storage, named by its SHA-256 (a department's
    file is kept as evidence of what it sent, whatever becomes of its rows). The client's
    name is only ever a label: it never becomes part of a path. ``max_bytes`` is
    ``Settings.max_delivery_bytes`` (the web layer refuses a larger body before reading it;
    this guards any other caller)."""
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        for block in iter(lambda: stream.read(1 << 20), b""):
            size += len(block)
            if size > max_bytes:
                tmp.close()
                Path(tmp.name).unlink()
                raise FileRefused(
                    "FILE_TOO_LARGE", f"文件超过 {max_bytes // (1 << 20)} MB，请分批报送"
                )
            digest.update(block)
            tmp.write(block)
    suffix = Path(file_name).suffix.lower()
    suffix = suffix if suffix in (".csv", ".xlsx", ".jsonl", ".json", ".txt") else ""
    target = folder / f"{digest.hexdigest()}{suffix}"
    kept_before = target.exists()  # the same file delivered before stays as that batch's evidence
    shutil.move(tmp.name, target)
    try:
        yield target
    except BaseException:
        # a refused or failed delivery leaves no file behind (issue 11: uploads of a refused
        # request are removed)
        if not kept_before:
            target.unlink(missing_ok=True)
        raise


def deliver(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    *,
    path: Path,
    dataset: str,
    file_name: str,
    channel: str,
    dept_uscc: str | None = None,
    rejects_path: Path | None = None,
    chunk_rows: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> Receipt:
    """Ingest a file for the principal's department (an operator names the department)."""
    dept = acting_department(principal, dept_uscc)
    req = IngestRequest(
        path=path,
        dataset=dataset,
        dept_uscc=dept,
        actor=principal.name,
        channel=channel,
        file_name=file_name,
        role=principal.role.value,
        source=principal.source or None,
        rejects_path=rejects_path,
        chunk_rows=chunk_rows,
    )
    return ingest(conn, catalog, req, progress=progress)
