"""Turning a file's rows into checked rows, chunk by chunk.

Overlapping checks with writes: a forked worker process was measured and dropped (pickling
checked rows through a pipe cost as much as it saved); a thread checking the next chunk while
the database stores the current one (``ingest/overlap.py``) gains only where the database works
without the interpreter lock, which is PostgreSQL's share of a delivery above all.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import IO

from xinyong.batches.problems import CheckedRow, Problem
from xinyong.batches.readers import Row, open_source
from xinyong.catalog.lists import KIND_ITEM, ListRegister
from xinyong.catalog.schema import Dataset, ItemType
from xinyong.db import dumps
from xinyong.ingest.columnar import MIN_ROWS, CleanRows, clean_rows
from xinyong.ingest.columns import ColumnPlan, max_columns
from xinyong.ingest.mapping import Mapping
from xinyong.ingest.rows import RowChecker


@dataclass
class CheckContext:
    """Everything needed to check a file's rows."""

    path: Path
    dataset: Dataset
    dept_uscc: str
    mapping: Mapping | None
    today: date
    chunk_rows: int
    lists: ListRegister | None = None  # the list register, for list datasets
    columnar: bool = True  # check cells column by column first (ingest/columnar.py)


def check_row(
    checker: RowChecker,
    plan: ColumnPlan,
    row: Row,
    *,
    clean: CleanRows | None = None,
    diff_columns: list[tuple[int, str, str | None]] | None = None,
) -> CheckedRow:
    """Check one row; with ``clean``, the row passed the columnar checks
    (``ingest/columnar.py``): its cells are put in normal form and only what those checks do
    not cover is checked row by row, and ``diff_columns`` are the only columns whose stored
    value can differ from the cell (:meth:`ColumnPlan.diff_columns`)."""
    row_no, cells, unreadable = row
    if unreadable is not None:
        bad = CheckedRow(row_no=row_no, raw=cells)
        code = getattr(unreadable, "code", "JSON_INVALID")  # readers.Unreadable names its own
        bad.errors.append(Problem(None, None, code, unreadable))
        return bad
    if clean is not None:
        assert diff_columns is not None
        checked = checker.check_clean(row_no, clean.normalise(plan.clean_cells(cells)), cells)
        if not checked.errors:
            # the row is of the header's width, no cell padded, nothing beyond it
            checked.raw_json = dumps(plan.raw_diff_of(cells, checked.data, diff_columns))
        return checked
    else:
        checked = checker.check(row_no, plan.cells(cells), cells)
    extra = plan.extra_cells(cells)
    if len(cells) > len(plan.headers):
        # a reject is stored to the header's width: what lies beyond is named in the
        # problem (its first 200 characters), not kept cell by cell
        checked.raw = cells[: len(plan.headers)]
    if extra is not None:
        checked.errors.append(
            Problem(
                None,
                extra[:200],
                "ROW_EXTRA_CELLS",
                "该行的列数多于表头，多出的内容无处存放；请检查是否有未加引号的逗号",
            )
        )
    if not checked.errors:
        # What is stored of the original row: only the cells that the normalised values do
        # not reproduce (see ColumnPlan.raw_diff).
        checked.raw_json = dumps(plan.raw_diff(cells, checked.data))
    return checked


def check_chunk(checker: RowChecker, plan: ColumnPlan, chunk: list[Row]) -> list[CheckedRow] | None:
    """The chunk's rows checked, columns first: rows whose cells pass the columnar checks
    skip the cell checks, the others are checked row by row. None when the chunk is not for
    the columnar path (a mapping file derives cells; too few rows to pay for the columns)."""
    if plan.mapping is not None or len(chunk) < MIN_ROWS:
        return None
    width = len(plan.headers)
    plan.code_at()  # resolve headers a JSON lines file added
    whole = [r for r in chunk if r[2] is None and len(r[1]) == width]
    if len(whole) < MIN_ROWS:
        return None
    clean = clean_rows(checker, plan, [r[1] for r in whole])
    passed = iter(clean.passed)
    # A passing row's cells are stored as they are but for its parsed cells given in another
    # form, its subject's name (cleaned) and its list kind (resolved to a code).
    sub = checker.dataset.subject
    diff_columns = plan.diff_columns({*clean.normal, sub.name, KIND_ITEM})
    return [
        check_row(checker, plan, row, clean=clean, diff_columns=diff_columns)
        if row[2] is None and len(row[1]) == width and next(passed)
        else check_row(checker, plan, row)
        for row in chunk
    ]


@dataclass
class CheckedChunk:
    rows: list[CheckedRow]
    read: int  # rows read from the file, including a skipped code header row
    headers: list[str]  # the file's headers so far (JSON lines add keys as they appear)
    columns: list[str | None]  # the item code of each header, None when not in the catalogue
    unknown: list[str]  # headers not in the catalogue so far


def checked_chunks(ctx: CheckContext) -> Iterator[CheckedChunk]:
    source = open_source(ctx.path, max_columns=max_columns(ctx.dataset))
    try:
        plan = ColumnPlan(ctx.dataset, source.headers, ctx.mapping)
        checker = RowChecker(ctx.dataset, ctx.dept_uscc, ctx.today, ctx.lists)
        first = True
        while chunk := list(islice(source.rows, ctx.chunk_rows)):
            read = len(chunk)
            if first and plan.is_code_header_row(chunk[0][1]):
                chunk = chunk[1:]
            first = False
            rows = check_chunk(checker, plan, chunk) if ctx.columnar else None
            if rows is None:
                rows = [check_row(checker, plan, row) for row in chunk]
            yield CheckedChunk(rows, read, list(plan.headers), plan.code_at(), list(plan.unknown))
    finally:
        source.close()


def _coarse_key_items(dataset: Dataset) -> tuple[str, ...]:
    """The natural key's items whose checked value is the stripped cell as sent (plain text):
    every check either keeps such a cell as it is or rejects the row. Two rows with equal
    natural keys thus have equal cells in these columns; the converse need not hold."""
    keep_out = {dataset.subject.name, KIND_ITEM}  # names are cleaned, list kinds resolved
    return tuple(
        k
        for k in dataset.natural_key
        if k != "subject" and k not in keep_out and dataset.item(k).type is ItemType.TEXT
    )


@dataclass
class SpanningKeys:
    """What one read of the file ahead of the storing pass knows of keys across chunks.

    Rows are grouped by a coarse key, the stripped cells of the natural key's plain-text
    items: rows with equal natural keys have equal coarse keys. A row whose coarse key was
    first seen in an earlier chunk is *late*: it is checked during that read and, when it
    passes, its natural key hash, content hash and number are kept (a few per repeated key;
    nothing else of the file is). Every row of a conflicting group that spans chunks is then
    either late or in the first chunk of its coarse key, which the storing pass checks before
    any later row of the group comes up: :meth:`conflicts`, asked with each chunk's checked
    rows before they are stored, names every such group in time, with all its rows, as a scan
    of the whole file would (``scan_conflicts``).
    """

    codes: tuple[str, ...]
    by_chunk: dict[int, set[int]]  # chunk → the repeated coarse key hashes first seen in it
    late: dict[int, list[tuple[int, str, int]]]  # coarse key hash → late rows that passed

    def conflicts(self, n: int, rows: list[CheckedRow]) -> dict[int, list[int]]:
        """The conflicting groups, by natural key hash → all their rows, whose coarse key was
        first seen in chunk ``n``, given that chunk's rows as checked (nothing stored yet)."""
        mine = self.by_chunk.pop(n, None)
        if not mine:
            return {}
        codes = self.codes
        members: dict[int, list[tuple[int, str, int]]] = {}
        for row in rows:
            if row.ok:
                c = hash(tuple(row.data.get(k, "") for k in codes))
                if c in mine:
                    assert row.natural_key is not None and row.content_hash is not None
                    members.setdefault(c, []).append(
                        (hash(row.natural_key), row.content_hash, row.row_no)
                    )
        out: dict[int, list[int]] = {}
        for c in mine:
            by_key: dict[int, list[tuple[str, int]]] = {}
            for h, digest, row_no in (*members.get(c, ()), *self.late.pop(c, ())):
                by_key.setdefault(h, []).append((digest, row_no))
            for h, rows_of_key in by_key.items():
                if len({digest for digest, _ in rows_of_key}) > 1:
                    out[h] = [row_no for _, row_no in rows_of_key]
        return out


def spanning_keys(ctx: CheckContext) -> SpanningKeys | None:
    """One read of the file (see :class:`SpanningKeys`); None when no coarse key repeats
    across chunks, or the dataset's key has no plain-text item to make one of."""
    codes = _coarse_key_items(ctx.dataset)
    if not codes:
        return None
    first_chunk: dict[int, int] = {}
    spanning: dict[int, int] = {}
    late: dict[int, list[tuple[int, str, int]]] = {}
    checker = RowChecker(ctx.dataset, ctx.dept_uscc, ctx.today, ctx.lists)
    source = open_source(ctx.path, max_columns=max_columns(ctx.dataset))
    try:
        plan = ColumnPlan(ctx.dataset, source.headers, ctx.mapping)
        width = -1
        ats: list[int] = []
        n = 0
        while chunk := list(islice(source.rows, ctx.chunk_rows)):
            if n == 0 and plan.is_code_header_row(chunk[0][1]):
                chunk = chunk[1:]
            for row in chunk:
                cells = row[1]
                if row[2] is not None:
                    continue  # unreadable: never stored
                if plan.mapping is not None:  # the cells a mapping derives
                    mapped = plan.cells(cells)
                    c = hash(tuple(mapped.get(k, "") for k in codes))
                else:
                    if len(plan.headers) != width:  # JSON lines add keys as they appear
                        width = len(plan.headers)
                        code_at = plan.code_at()
                        ats = [code_at.index(k) if k in code_at else -1 for k in codes]
                    c = hash(tuple(cells[at].strip() if 0 <= at < len(cells) else "" for at in ats))
                m = first_chunk.setdefault(c, n)
                if m == n:
                    continue
                spanning[c] = m
                # the row path, which the columnar one is held equal to
                checked = check_row(checker, plan, row)
                if checked.ok:
                    assert checked.natural_key is not None and checked.content_hash is not None
                    late.setdefault(c, []).append(
                        (hash(checked.natural_key), checked.content_hash, checked.row_no)
                    )
            n += 1
    finally:
        source.close()
    if not spanning:
        return None
    by_chunk: dict[int, set[int]] = {}
    for c, m in spanning.items():
        by_chunk.setdefault(m, set()).add(c)
    return SpanningKeys(codes, by_chunk, late)


def scan_conflicts(ctx: CheckContext, spill: IO[bytes]) -> dict[int, list[int]]:
    """Every group of rows that repeat a natural key with different content, by key hash.

    Checks only, nothing stored: the rows that pass their checks are grouped by key, which is
    what the storing pass does chunk by chunk, but over the whole file at once. Memory stays
    small: one int per key (its first row and the leading bits of its content hash), row lists
    only for keys that repeat. Each checked chunk is pickled to ``spill`` as it was checked
    (before storing adds anything to its rows), for :func:`replay` to hand to the storing
    pass: unpickling costs a third of checking again.
    """
    first: dict[int, int] = {}
    repeated: dict[int, list[int]] = {}
    conflicting: set[int] = set()
    for chunk in checked_chunks(ctx):
        pickle.dump(chunk, spill, protocol=pickle.HIGHEST_PROTOCOL)
        for row in chunk.rows:
            if not row.ok:
                continue
            assert row.natural_key is not None and row.content_hash is not None
            h = hash(row.natural_key)
            packed = (int(row.content_hash[:12], 16) << 32) | row.row_no
            seen = first.get(h)
            if seen is None:
                first[h] = packed
                continue
            rows = repeated.get(h)
            if rows is None:
                rows = repeated[h] = [seen & 0xFFFFFFFF]
            rows.append(row.row_no)
            if (seen >> 32) != (packed >> 32):
                conflicting.add(h)
    return {h: repeated[h] for h in conflicting}


def replay(spill: IO[bytes]) -> Iterator[CheckedChunk]:
    """The chunks :func:`scan_conflicts` spilled, in file order (our own temporary file)."""
    spill.seek(0)
    while True:
        try:
            yield pickle.load(spill)
        except EOFError:
            return
