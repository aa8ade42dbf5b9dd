"""Which source column feeds which catalogue item.

Headers may be the item code (``CF_WSH``), the Chinese name (行政处罚决定书文号), a known alias,
the template's marked form (``*行政处罚决定书文号``) or whatever a mapping file says. The plan is
resolved once per batch into column positions, so turning a row into ``{item code: text}`` is a
single pass over the row.
"""

from __future__ import annotations

import operator
import re
import unicodedata

from xinyong.catalog.schema import Dataset
from xinyong.errors import FileRefused
from xinyong.ingest.mapping import Mapping as ColumnMapping

_INDEX = [str(i) for i in range(256)]  # column indexes as JSON object keys, made once
_MARKS = re.compile(r"^[*＊△▲]+|[（(](必填|选填|条件必填)[)）]$")


def header_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = "".join(s.split())
    return _MARKS.sub("", s).upper()


# Columns a delivered file may have beyond its dataset's items (a department's own notes,
# an index column): wider is refused before any row is read (issue 11).
COLUMN_SLACK = 32


def max_columns(dataset: Dataset) -> int:
    """The widest file accepted for ``dataset``: its catalogue items and a margin."""
    return len(dataset.items) + COLUMN_SLACK


class ColumnPlan:
    """Resolved once per batch; turns each source row into ``{item code: text}``."""

    def __init__(
        self, dataset: Dataset, headers: list[str], mapping: ColumnMapping | None = None
    ) -> None:
        self.dataset = dataset
        self.mapping = mapping
        self.headers = headers  # shared with the reader: JSON lines may extend it
        lookup: dict[str, str] = {}
        for item in dataset.items:
            for spelling in (item.code, item.name, *item.aliases):
                lookup.setdefault(header_key(spelling), item.code)
        self._lookup = lookup
        self._explicit: dict[str, str] = {}
        self._constants: list[tuple[str, str]] = []
        self._derived: list[tuple[str, object]] = []
        self._sources: set[str] = set()  # columns read by derive rules: used, not unknown
        if mapping is not None:
            self._sources = {rule.from_ for rule in mapping.spec.derive.values()}
            for source, target in mapping.spec.headers.items():
                self._explicit[source] = self._target(target, f"把“{source}”对应到“{target}”")
            for target, value in mapping.spec.constants.items():
                self._constants.append((self._target(target, f"常量“{target}”"), value))
            for target, rule in mapping.spec.derive.items():
                self._derived.append((self._target(target, f"派生项“{target}”"), rule))
        self.positions: list[tuple[int, str]] = []  # (column index, item code)
        self.unknown: list[str] = []
        self._resolved = 0
        self._code_at: list[str | None] = []
        self._code_at_len = -1
        self.resolve()

    def _target(self, target: str, what: str) -> str:
        code = self._lookup.get(header_key(target))
        if code is None:
            raise FileRefused(
                "MAPPING_INVALID",
                f"映射文件{what}，但数据集 {self.dataset.code} 没有“{target}”这个信息项",
            )
        return code

    def resolve(self) -> None:
        """Map headers not seen yet (all of them at first; new JSON keys later)."""
        for at in range(self._resolved, len(self.headers)):
            h = self.headers[at]
            if not h:
                continue
            code = self._explicit.get(h) or self._lookup.get(header_key(h))
            if code is None:
                if h not in self._sources:
                    self.unknown.append(h)
            else:
                self.positions.append((at, code))
        self._resolved = len(self.headers)
        ats = [at for at, _ in self.positions]
        self._codes = [code for _, code in self.positions]
        self._min_width = max(ats) + 1 if ats else 0
        getter = operator.itemgetter(*ats) if ats else (lambda row: ())
        # itemgetter of one index returns the item, not a 1-tuple
        self._getter = (lambda row: (getter(row),)) if len(ats) == 1 else getter

    def covered(self) -> set[str]:
        codes = {code for _, code in self.positions}
        codes.update(code for code, _ in self._constants)
        codes.update(code for code, _ in self._derived)
        return codes

    def check_required_columns(self) -> None:
        """A file lacking a column every row needs is refused whole, before any row is read."""
        covered = self.covered()
        needed = [i for i in self.dataset.items if i.required and i.code not in covered]
        name_item = self.dataset.item(self.dataset.subject.name)
        if name_item.code not in covered and name_item not in needed:
            needed.insert(0, name_item)
        if needed:
            names = "、".join(f"{i.name}（{i.code}）" for i in needed)
            raise FileRefused("FILE_MISSING_COLUMNS", f"文件缺少必填列：{names}")

    def duplicate_targets(self) -> list[str]:
        seen: dict[str, str] = {}
        dups = []
        for at, code in self.positions:
            h = self.headers[at]
            if code in seen:
                dups.append(f"“{seen[code]}”与“{h}”都对应 {code}")
            seen[code] = h
        return dups

    def is_code_header_row(self, row: list[str]) -> bool:
        """The template's second header row holds the item codes: skip it, don't reject it."""
        hits = 0
        width = len(row)
        for at, code in self.positions:
            value = row[at].strip() if at < width else ""
            if not value:
                continue
            if value.upper() != code:
                return False
            hits += 1
        return hits > 0

    def extra_cells(self, row: list[str]) -> str | None:
        """Cells beyond the header's width: reported, never silently dropped."""
        width = len(self.headers)
        if len(row) <= width:
            return None
        extra = [c for c in row[width:] if c.strip()]
        return "|".join(extra) if extra else None

    def code_at(self) -> list[str | None]:
        """The item code each header feeds, None for headers outside the catalogue."""
        if len(self.headers) != self._resolved:
            self.resolve()
        codes: list[str | None] = [None] * len(self.headers)
        for at, code in self.positions:
            codes[at] = code
        return codes

    def raw_diff(self, row: list[str], data: dict[str, str]) -> dict[str, str]:
        """The cells of ``row`` that ``data`` does not reproduce, by column index.

        The original row is kept exactly, at a fraction of its size: a cell whose stripped
        text became the stored value as is (most of them) is not stored twice; dates written
        2023/05/01, enumerations given by code, padded cells and columns outside the catalogue
        are. ``records.original_row`` puts the row back together.
        """
        if self._code_at_len != len(self.headers):
            self._code_at = self.code_at()
            self._code_at_len = len(self.headers)
        code_at = self._code_at
        if len(row) > len(code_at):
            code_at = code_at + [None] * (len(row) - len(code_at))
        # a comprehension over zip: this runs on every stored row
        return {
            _INDEX[at] if at < len(_INDEX) else str(at): cell
            for at, cell, code in zip(range(len(row)), row, code_at, strict=False)
            if cell and (code is None or data.get(code) != cell)
        }

    def diff_columns(self, changed: set[str]) -> list[tuple[int, str, str | None]]:
        """The columns where a stored value may differ from its cell when every other
        column's cell is stored as it is: those outside the catalogue and those of the item
        codes in ``changed``; as (index, its JSON key, item code), in column order."""
        return [
            (at, _INDEX[at] if at < len(_INDEX) else str(at), code)
            for at, code in enumerate(self.code_at())
            if code is None or code in changed
        ]

    def raw_diff_of(
        self, row: list[str], data: dict[str, str], columns: list[tuple[int, str, str | None]]
    ) -> dict[str, str]:
        """:meth:`raw_diff` of a row of the header's width whose cells in the columns left
        out of ``columns`` (see :meth:`diff_columns`) are each empty or stored as they are:
        the same dict, looking only at ``columns``."""
        return {
            key: cell
            for at, key, code in columns
            if (cell := row[at]) and (code is None or data.get(code) != cell)
        }

    def clean_cells(self, row: list[str]) -> dict[str, str]:
        """:meth:`cells` of a row of the header's width without a mapping whose cells are
        known to be stripped already (the columnar checks passed it): the same dict."""
        return {
            code: cell for code, cell in zip(self._codes, self._getter(row), strict=True) if cell
        }

    def cells(self, row: list[str]) -> dict[str, str]:
        if len(self.headers) != self._resolved:
            self.resolve()
        if len(row) >= self._min_width:
            # the common case: one C-level fetch of every mapped cell, one comprehension
            out = {
                code: value
                for code, cell in zip(self._codes, self._getter(row), strict=True)
                if (value := cell.strip())
            }
        else:
            out = {
                code: value
                for at, code in self.positions
                if at < len(row) and (value := row[at].strip())
            }
        if self.mapping is not None:
            for code, value in self._constants:
                out.setdefault(code, value)
            if self._derived:
                by_header = dict(zip(self.headers, row, strict=False))
                for code, rule in self._derived:
                    # a derived value wins over a same-named column: the mapping says how to read it
                    derived = self.mapping.derived(code, rule, by_header)  # type: ignore[arg-type]
                    if derived:
                        out[code] = derived
                    else:
                        out.pop(code, None)
        return out
