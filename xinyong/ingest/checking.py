"""Turning a file's rows into checked rows, chunk by chunk.

Two ways of overlapping checks with writes were measured and dropped: a forked worker
process (pickling checked rows through a pipe cost as much as it saved) and a thread checking
the next chunk while the current one is written (the interpreter lock serialises them: no gain).
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
from xinyong.catalog.lists import ListRegister
from xinyong.catalog.schema import Dataset
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
    checker: RowChecker, plan: ColumnPlan, row: Row, *, clean: CleanRows | None = None
) -> CheckedRow:
    """Check one row; with ``clean``, the row passed the columnar checks
    (``ingest/columnar.py``): its cells are put in normal form and only what those checks do
    not cover is checked row by row."""
    row_no, cells, unreadable = row
    if unreadable is not None:
        bad = CheckedRow(row_no=row_no, raw=cells)
        code = getattr(unreadable, "code", "JSON_INVALID")  # readers.Unreadable names its own
        bad.errors.append(Problem(None, None, code, unreadable))
        return bad
    if clean is not None:
        checked = checker.check_clean(row_no, clean.normalise(plan.cells(cells)), cells)
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
    return [
        check_row(checker, plan, row, clean=clean)
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
