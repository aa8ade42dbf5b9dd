"""The rejects file (退回数据) a department can fix and resend: its rejected rows in the input's
own format plus a 错误原因 column, written while a batch is ingested or again from a past batch.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xinyong.cells import safe_row, xlsx_text_row

if TYPE_CHECKING:
    from xinyong.batches.problems import Problem
    from xinyong.catalog.schema import Dataset


REASON_COLUMN = "错误原因"


def reason_text(dataset: Dataset, problems: list[Problem]) -> str:
    """The 错误原因 cell: every problem of the row, named by the item's Chinese name."""
    parts = []
    for p in problems:
        try:
            name = dataset.item(p.field).name if p.field else ""
        except KeyError:
            name = p.field or ""
        parts.append(f"{name}：{p.message}" if name else p.message)
    return "；".join(parts)


class RejectsWriter:
    """Writes rejected rows in the input's own format plus a 错误原因 column, as they come."""

    def __init__(self, path: Path, fmt: str, headers: list[str], encoding: str | None) -> None:
        self.path = path
        self.fmt = fmt
        self.headers = headers  # shared with the reader: JSON lines may extend it
        self.count = 0
        self._reason_at = headers.index(REASON_COLUMN) if REASON_COLUMN in headers else None
        extra = [] if self._reason_at is not None else [REASON_COLUMN]
        self._fh: IO[str] | None = None
        self._csv: Any = None
        self._wb: Any = None
        self._ws: Any = None
        if fmt == "xlsx":
            from openpyxl import Workbook

            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet("数据")
            self._ws.append(xlsx_text_row(self._ws, [*self.headers, *extra]))
        elif fmt == "jsonl":
            self._fh = path.open("w", encoding="utf-8", newline="\n")
        else:
            # Same encoding as the department's file, so their tools open it the same way.
            enc = encoding or "utf-8-sig"
            self._fh = path.open("w", encoding=enc, newline="", errors="replace")
            self._csv = csv.writer(self._fh)
            self._csv.writerow(safe_row([*self.headers, *extra]))

    def write(self, raw: list[str], reason: str) -> None:
        """``raw`` holds the row's cells in the order of ``headers`` (as the reader gave them)."""
        self.count += 1
        if self.fmt == "jsonl":
            assert self._fh is not None
            obj = {h: v for h, v in zip(self.headers, raw, strict=False) if v}
            obj[REASON_COLUMN] = reason
            self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            return
        # 错误原因 always lands under its header: short rows are padded, a resent rejects file's
        # own 错误原因 column is overwritten, and cells beyond the header follow it.
        width = len(self.headers)
        cells = list(raw[:width]) + [""] * (width - len(raw))
        if self._reason_at is not None:
            cells[self._reason_at] = reason
            cells.extend(raw[width:])
        else:
            cells = [*cells, reason, *raw[width:]]
        # Every cell as inert text: a hostile '=HYPERLINK(…)' comes back as the text it was
        # (with a leading apostrophe), not as a formula Excel would run for the clerk.
        if self._ws is not None:
            self._ws.append(xlsx_text_row(self._ws, cells))
        else:
            self._csv.writerow(safe_row(cells))

    def close(self) -> None:
        if self._wb is not None:
            self._wb.save(self.path)
        if self._fh is not None:
            self._fh.close()

    def discard(self) -> None:
        """The batch failed as a whole: a half-written rejects file must not be left behind."""
        try:
            if self._fh is not None:
                self._fh.close()
        finally:
            self.path.unlink(missing_ok=True)
