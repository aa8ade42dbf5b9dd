"""Running one delivery (归集批次): read → check → link → store, chunk by chunk.

The caller owns the transaction: the whole batch commits or none of it does, so a crash or a
kill mid-batch leaves nothing half-written and a rerun simply does it again. Memory is bounded
by the chunk size: rows are read, checked, linked and written ``chunk_rows`` at a time, and
keys repeated across chunks are found in the database, where the rows of this batch already
are inside the same transaction; only keys left unchanged or repeated are remembered in memory
(``records.store.FileKeys``).
"""

from __future__ import annotations

import gc
import hashlib
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, insert, update

from xinyong import clock
from xinyong.audit import service as audit
from xinyong.batches.models import batch_rejects, batch_warnings, batches
from xinyong.batches.problems import CheckedRow, Problem
from xinyong.batches.readers import Source, open_source
from xinyong.batches.rejects import RejectsWriter, reason_text
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset
from xinyong.departments import service as departments
from xinyong.disclosure.assign import batch_publicity
from xinyong.errors import FileRefused
from xinyong.ingest.checking import (
    CheckContext,
    CheckedChunk,
    SpanningKeys,
    checked_chunks,
    replay,
    scan_conflicts,
    spanning_keys,
)
from xinyong.ingest.columns import ColumnPlan, max_columns
from xinyong.ingest.mapping import Mapping, load_mapping
from xinyong.ingest.overlap import checked_ahead
from xinyong.ingest.receipt import Receipt
from xinyong.jobs import after_batch, before_store
from xinyong.records.store import FileKeys, StoreOutcome, store_rows
from xinyong.subjects.service import link_subjects, record_names

Progress = Callable[[int], None]

# The columnar checks pay for importing polars (0.3–0.5 s of CPU) from a few tens of thousands
# of rows: bench/ingest.py --row-path measured 9.0 against 8.3 CPU s for 20,000 rows (10 MB)
# and 13.9 against 14.8 for 50,000 (25 MB) in one run each (README, Performance).
COLUMNAR_MIN_BYTES = 16 << 20

# The page cache of a delivery's SQLite connection (see _DeliveryCache).
DELIVERY_CACHE_KIB = 96 << 10

# Stored warnings per batch are capped: a file with a million identical warnings must not
# become a million rows; the count stays exact.
MAX_STORED_WARNINGS = 10_000


@dataclass(frozen=True)
class IngestRequest:
    path: Path
    dataset: str
    dept_uscc: str
    actor: str
    channel: str = "cli"
    mapping_path: Path | None = None
    rejects_path: Path | None = None
    today: date | None = None
    chunk_rows: int = 5000
    file_name: str | None = None  # the name the department gave it (uploads land in temp files)
    role: str = "operator"  # the acting principal's role, for the audit log
    source: str | None = None  # where the delivery came from (host, IP)
    # cells checked column by column first (ingest/columnar.py): True always, False never (every
    # row by the row checker alone, the path the columnar one is tested against), None for
    # files of COLUMNAR_MIN_BYTES or more
    columnar: bool | None = None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ingest(
    conn: Connection,
    catalog: Catalog,
    req: IngestRequest,
    *,
    progress: Progress | None = None,
) -> Receipt:
    """Ingest one file. Raises :class:`FileRefused` (nothing stored) when it cannot be read."""
    dataset = catalog.dataset(req.dataset)
    # A disabled department (停用) is refused here, before its file is opened.
    dept = departments.require_active(conn, req.dept_uscc)
    if dataset.code not in dept.datasets:
        raise FileRefused(
            "DEPT_DATASET_NOT_ALLOWED",
            f"{dept.name} 未被授权报送“{dataset.name}”（{dataset.code}）；"
            f"可报送：{'、'.join(dept.datasets) or '无'}",
        )
    mapping: Mapping | None = None
    if req.mapping_path is not None:
        mapping = load_mapping(req.mapping_path)
        if mapping.spec.dataset and mapping.spec.dataset.upper() != dataset.code:
            raise FileRefused(
                "MAPPING_DATASET",
                f"映射文件用于数据集 {mapping.spec.dataset}，与本次报送的 {dataset.code} 不一致",
            )
    source = open_source(req.path, max_columns=max_columns(dataset))
    sha = file_sha256(req.path)
    # Rows are freed by reference counting; the cyclic collector would only re-scan the
    # growing heap of a big batch again and again (a third of the time on a million rows).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    cache = _DeliveryCache(conn)
    try:
        plan = ColumnPlan(dataset, source.headers, mapping)
        dups = plan.duplicate_targets()
        if dups:
            raise FileRefused("FILE_DUPLICATE_COLUMNS", "表头重复：" + "；".join(dups))
        plan.check_required_columns()
        source.close()  # the header is known; the rows are read by the checking stage
        ctx = CheckContext(
            req.path,
            dataset,
            dept.uscc,
            mapping,
            req.today or clock.today(conn),
            req.chunk_rows,
            catalog.lists,
            columnar=req.path.stat().st_size >= COLUMNAR_MIN_BYTES
            if req.columnar is None
            else req.columnar,
        )
        # Rows repeating a key with different content are all rejected. When such a group
        # spans chunks, its first rows would be stored before its later ones are read: one
        # read of the file ahead checks the few rows that repeat a key of an earlier chunk
        # (``spanning_keys``), and the storing pass learns of each such group with the chunk
        # where it begins, before storing it. Should the pass still meet a group it does not
        # know (a dataset whose key has no plain-text item), it stops at once and is rolled
        # back, the whole file is checked once more to find every conflicting group (nothing
        # stored; the checked chunks are spilled to a temporary file), and one pass over the
        # spilled chunks, knowing all the groups, rejects them from the start.
        known: dict[int, list[int]] = {}
        ahead: SpanningKeys | None = None
        # A text file of fewer bytes than a chunk has rows is one chunk: nothing can span.
        # (A compressed spreadsheet might not be: the fallback below covers it.)
        if ctx.chunk_rows < req.path.stat().st_size:
            ahead = spanning_keys(ctx)
        spill: IO[bytes] | None = None
        try:
            while True:
                savepoint = conn.begin_nested()
                chunks = checked_chunks(ctx) if spill is None else replay(spill)
                try:
                    # the next chunk is checked while the database stores this one
                    with checked_ahead(chunks) as checked:
                        receipt = _run(
                            conn,
                            ctx,
                            req,
                            source,
                            sha,
                            progress,
                            known,
                            checked,
                            stop=spill is None,
                            ahead=ahead if spill is None else None,
                        )
                except _Rerun as again:
                    savepoint.rollback()
                    if spill is None:
                        spill = tempfile.TemporaryFile(prefix="xinyong-ingest-")  # noqa: SIM115
                        known = scan_conflicts(ctx, spill)
                    else:  # not expected once the scan knows every group; stays correct
                        known.update(again.conflicts)
                    continue
                except BaseException:
                    if savepoint.is_active:
                        savepoint.rollback()
                    raise
                savepoint.commit()
                return receipt
        finally:
            if spill is not None:
                spill.close()
    finally:
        source.close()
        cache.restore()
        if gc_was_enabled:
            gc.enable()


def _run(
    conn: Connection,
    ctx: CheckContext,
    req: IngestRequest,
    source: Source,
    sha: str,
    progress: Progress | None,
    conflicts: dict[int, list[int]],
    chunks: Iterable[CheckedChunk],
    *,
    stop: bool,
    ahead: SpanningKeys | None = None,
) -> Receipt:
    """One pass over the file. With ``stop``, a conflicting group spanning chunks ends the
    pass at once (:class:`_Rerun`); without it the pass goes on and reports all of them.
    ``ahead`` names the conflicting groups spanning chunks as their first chunk comes up."""
    dataset, dept_uscc = ctx.dataset, ctx.dept_uscc
    now = clock.now(conn)
    batch_id: int = conn.execute(
        insert(batches).returning(batches.c.id),
        {
            "dataset": dataset.code,
            "dept_uscc": dept_uscc,
            "actor": req.actor,
            "channel": req.channel,
            "file_name": req.file_name or req.path.name,
            "file_sha256": sha,
            "file_format": source.format,
            "encoding": source.encoding,
            "mapping": ctx.mapping.raw if ctx.mapping else None,
            "received_at": now,
            "finished_at": now,
            **dict.fromkeys(
                ("received", "new", "updated", "unchanged", "pending", "rejected", "warnings"), 0
            ),
        },
    ).scalar_one()
    receipt = Receipt(batch_id=batch_id, dataset=dataset.code)
    headers = list(source.headers)  # grows with a JSON lines file's later keys
    unknown: list[str] = []
    columns: list[str | None] = []
    writer = (
        RejectsWriter(req.rejects_path, source.format, headers, source.encoding)
        if req.rejects_path
        else None
    )
    warnings = _Warnings(batch_id, receipt)
    keys = FileKeys(known=conflicts)
    # each record's publicity period is written with it (not updated after the batch)
    publicity = batch_publicity(dataset)
    for code, msg in source.notes:
        warnings.add(1, Problem(None, None, code, msg))
    try:
        for n, chunk in enumerate(chunks):
            headers.extend(chunk.headers[len(headers) :])
            columns, unknown = chunk.columns, chunk.unknown
            rows = chunk.rows
            if ahead is not None:  # the rows as checked, before any later step refuses one
                keys.known.update(ahead.conflicts(n, rows))
            receipt.received += len(rows)
            _link(conn, rows)
            before_store(conn, dataset, rows)
            outcome = store_rows(
                conn,
                dataset,
                dept_uscc,
                batch_id,
                rows,
                now,
                keys,
                publicity=publicity.of if publicity is not None else None,
            )
            _names(conn, dataset, outcome.stored, batch_id)
            _tally(receipt, outcome)
            _rejects(conn, dataset, batch_id, rows, receipt, writer)
            for row in rows:
                for w in row.warnings:
                    warnings.add(row.row_no, w)
            if progress is not None:
                progress(chunk.read)
            if stop and keys.rerun:
                raise _Rerun({})
        if keys.rerun:
            raise _Rerun({hash(k): rows for k, rows in keys.rerun.items()})
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    if writer is not None:
        writer.close()
    if publicity is not None:  # where the after-batch step that computed them reported them
        for row_no, problem in publicity.warnings():
            warnings.add(row_no, problem)
    for row_no, problem in after_batch(conn, dataset, batch_id):
        warnings.add(row_no, problem)
    if unknown:
        msg = "以下列不在目录中，已忽略：" + "、".join(unknown)
        warnings.add(1, Problem(None, None, "COLUMN_UNKNOWN", msg))
    warnings.store(conn)
    conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(
            finished_at=clock.now(conn),
            headers=headers,
            columns=columns,
            received=receipt.received,
            new=receipt.new,
            updated=receipt.updated,
            unchanged=receipt.unchanged,
            pending=receipt.pending,
            rejected=receipt.rejected,
            warnings=len(receipt.warnings),
        )
    )
    # Last in the transaction: an append holds the audit chain until the commit.
    audit.append(
        conn,
        actor=req.actor,
        role=req.role,
        action="batch.ingest",
        dept_uscc=dept_uscc,
        batch_id=batch_id,
        source=req.source,
        detail={
            "dataset": dataset.code,
            "file": req.file_name or req.path.name,
            "sha256": sha,
            **{
                k: getattr(receipt, k)
                for k in ("received", "new", "updated", "unchanged", "pending", "rejected")
            },
        },
    )
    return receipt


class _DeliveryCache:
    """On SQLite, a delivery's connection keeps a page cache of ``DELIVERY_CACHE_KIB`` for the
    batch, and gets its own size back after.

    A delivery is one transaction: its dirty pages fill the page cache to its size before
    they spill to the WAL, so with the platform's cache (``sqlite_cache_kib``, sized for the
    portal's reads) a million-row delivery peaked at 594 MB. Measured on the same
    1,000,000-row file, one run each on a quiet machine: 200 MiB 594 MB and 158.6 CPU s,
    128 MiB 515 MB and 154.0 s, 96 MiB 479 MB and 143.9 s, 64 MiB 445 MB but 189.8 s (the
    stored-version lookups no longer fit: twice the system time). 100,000 rows: 404 MB."""

    def __init__(self, conn: Connection) -> None:
        # the driver's connection: the pragma is no statement of the transaction, and giving
        # the size back must work even after the batch failed and its transaction is dead
        self.driver: Any = (
            conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        )
        self.size: int | None = None
        if self.driver is not None:
            size = int(self.driver.execute("PRAGMA cache_size").fetchone()[0])
            # negative: KiB; positive: pages (of 4 KiB, SQLite's default page size)
            if (-size if size < 0 else size * 4) > DELIVERY_CACHE_KIB:
                self.size = size
                self.driver.execute(f"PRAGMA cache_size = -{DELIVERY_CACHE_KIB}")

    def restore(self) -> None:
        if self.size is not None:
            self.driver.execute(f"PRAGMA cache_size = {self.size}")


class _Rerun(Exception):
    """A conflicting key group spans chunks: redo the batch knowing every such group."""

    def __init__(self, conflicts: dict[int, list[int]]) -> None:
        super().__init__("conflicting key groups span chunks")
        self.conflicts = conflicts


class _Warnings:
    """Warnings go to the receipt in full and to the batch up to a cap."""

    def __init__(self, batch_id: int, receipt: Receipt) -> None:
        self.batch_id = batch_id
        self.receipt = receipt
        self.rows: list[dict[str, Any]] = []

    def add(self, row_no: int, problem: Problem) -> None:
        entry = problem.as_dict(row_no)
        self.receipt.warnings.append(entry)
        if len(self.rows) < MAX_STORED_WARNINGS:
            self.rows.append(
                {
                    "batch_id": self.batch_id,
                    "row_no": row_no,
                    **{k: entry[k] for k in ("field", "value", "code", "message")},
                }
            )

    def store(self, conn: Connection) -> None:
        if self.rows:
            conn.execute(insert(batch_warnings), self.rows)


def _link(conn: Connection, rows: list[CheckedRow]) -> None:
    good = [r for r in rows if r.ok and r.subject is not None]
    ids = link_subjects(conn, [r.subject for r in good])  # type: ignore[misc]
    for row, sid in zip(good, ids, strict=True):
        row.subject_id = sid


def _names(conn: Connection, dataset: Dataset, stored: list[CheckedRow], batch_id: int) -> None:
    linked = [r for r in stored if r.subject_id is not None and r.subject is not None]
    if linked:
        record_names(
            conn,
            [r.subject for r in linked],  # type: ignore[misc]
            [r.subject_id for r in linked],  # type: ignore[misc]
            batch_id=batch_id,
            authoritative=dataset.subject.status is not None
            or dataset.subject.former_names is not None,
        )


def _tally(receipt: Receipt, outcome: StoreOutcome) -> None:
    receipt.new += outcome.new
    receipt.updated += outcome.updated
    receipt.unchanged += outcome.unchanged
    receipt.pending += outcome.pending


def _rejects(
    conn: Connection,
    dataset: Dataset,
    batch_id: int,
    rows: list[CheckedRow],
    receipt: Receipt,
    writer: RejectsWriter | None,
) -> None:
    stored = []
    for row in rows:
        if row.ok:
            continue
        receipt.rejected += 1
        errors = [p.as_dict(row.row_no) for p in row.errors]
        receipt.rejects.extend(errors)
        stored.append(
            {
                "batch_id": batch_id,
                "row_no": row.row_no,
                "raw": row.raw,
                "errors": [
                    {k: e[k] for k in ("field", "value", "code", "message")} for e in errors
                ],
            }
        )
        if writer is not None:
            writer.write(row.raw, reason_text(dataset, row.errors))
    if stored:
        conn.execute(insert(batch_rejects), stored)


__all__ = ["IngestRequest", "file_sha256", "ingest", "load_mapping"]
