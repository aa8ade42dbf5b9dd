"""Which source column feeds which catalogue item.

Headers may be the item code (``CF_WSH``), the Chinese name (行政处罚决定书文号), a known alias,
the template's marked form (``*行政处罚决定书文号``) or whatever a mapping file says.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from xinyong.catalog.schema import Dataset
from xinyong.errors import FileRefused
from xinyong.ingest.mapping import Mapping as ColumnMapping
from xinyong.ingest.readers import EXTRA_CELLS, JSON_ERROR, Cell

_MARKS = re.compile(r"^[*＊△▲]+|[（(](必填|选填|条件必填)[)）]$")


def header_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = "".join(s.split())
    return _MARKS.sub("", s).upper()


class ColumnPlan:
    """Resolved once per batch; turns each source row into ``{item code: cell}``."""

    def __init__(
        self, dataset: Dataset, headers: list[str], mapping: ColumnMapping | None = None
    ) -> None:
        self.dataset = dataset
        self.mapping = mapping
        lookup: dict[str, str] = {}
        for item in dataset.items:
            for spelling in (item.code, item.name, *item.aliases):
                lookup.setdefault(header_key(spelling), item.code)
        self._lookup = lookup
        self._explicit: dict[str, str] = {}
        if mapping is not None:
            for source, target in mapping.spec.headers.items():
                code = lookup.get(header_key(target))
                if code is None:
                    raise FileRefused(
                        "MAPPING_INVALID",
                        f"映射文件把“{source}”对应到“{target}”，"
                        f"但数据集 {dataset.code} 没有这个信息项",
                    )
                self._explicit[source] = code
            for target in [*mapping.spec.constants, *mapping.spec.derive]:
                if lookup.get(header_key(target)) is None:
                    raise FileRefused(
                        "MAPPING_INVALID",
                        f"映射文件中的“{target}”不是数据集 {dataset.code} 的信息项",
                    )
        self.columns: dict[str, str] = {}
        self.unknown: list[str] = []
        self.resolve(headers)

    def resolve(self, headers: list[str]) -> None:
        for h in headers:
            if not h or h in self.columns or h in self.unknown:
                continue
            code = self._explicit.get(h) or self._lookup.get(header_key(h))
            if code is None:
                self.unknown.append(h)
            else:
                self.columns[h] = code

    def covered(self) -> set[str]:
        codes = set(self.columns.values())
        if self.mapping is not None:
            for target in [*self.mapping.spec.constants, *self.mapping.spec.derive]:
                codes.add(self._lookup[header_key(target)])
        return codes

    def check_required_columns(self) -> None:
        """A file lacking a column every row needs is refused whole, before any row is read."""
        covered = self.covered()
        needed = [i for i in self.dataset.items if i.required and i.code not in covered]
        if self.dataset.subject.name not in covered:
            needed.insert(0, self.dataset.item(self.dataset.subject.name))
        if needed:
            names = "、".join(f"{i.name}（{i.code}）" for i in needed)
            raise FileRefused("FILE_MISSING_COLUMNS", f"文件缺少必填列：{names}")

    def duplicate_targets(self) -> list[str]:
        seen: dict[str, str] = {}
        dups = []
        for h, code in self.columns.items():
            if code in seen:
                dups.append(f"“{seen[code]}”与“{h}”都对应 {code}")
            seen[code] = h
        return dups

    def is_code_header_row(self, row: Mapping[str, Cell]) -> bool:
        """The template's second header row holds the item codes: skip it, don't reject it."""
        hits = 0
        for h, code in self.columns.items():
            value = row.get(h)
            if value is None or value == "":
                continue
            if not isinstance(value, str) or value.strip().upper() != code:
                return False
            hits += 1
        return hits > 0

    def cells(self, row: Mapping[str, Cell]) -> dict[str, Cell | None]:
        out: dict[str, Cell | None] = {}
        for h, value in row.items():
            code = self.columns.get(h)
            if code is not None:
                out[code] = value.strip() if isinstance(value, str) else value
            elif h not in (EXTRA_CELLS, JSON_ERROR) and h not in self.unknown:
                # JSON lines may bring keys the first object lacked
                self.resolve([h])
                code = self.columns.get(h)
                if code is not None:
                    out[code] = value.strip() if isinstance(value, str) else value
        if self.mapping is not None:
            spec = self.mapping.spec
            for target, value in spec.constants.items():
                out.setdefault(self._lookup[header_key(target)], value)
            for target, rule in spec.derive.items():
                # a derived value wins over a same-named column: the mapping says how to read it
                code = self._lookup[header_key(target)]
                out[code] = self.mapping.derived(code, rule, row)
        return out
