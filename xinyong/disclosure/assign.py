"""Giving a delivery's records their publicity period as they are stored.

The storing step (``records.store.store_rows``) asks :class:`BatchPublicity` for each record it
creates or changes and writes the four values with the INSERT (or the new version's UPDATE):
no record is written twice. Before, an after-batch step read every stored record back and
updated it (one SELECT a page, one UPDATE a record: on PostgreSQL a second copy of every row and
of its index entries). The computed end wins over the department's own 公示截止期; a different
date there is a warning on the receipt, not a rejection, reported where the after-batch step
reported it: after the rows' own warnings, in the order of the records' ids.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from xinyong.batches.problems import CheckedRow, Problem
from xinyong.catalog.schema import Dataset
from xinyong.disclosure.publicity import RuleBook, parse_date, rule_book
from xinyong.settings import get_settings

_MEMO_MAX = 100_000  # distinct (date, items) answers held per batch

# (rule id, class, minimum end, maximum end), or four Nones when no rule speaks about the record
Stored = tuple[str | None, str | None, date | None, date | None]
_NONE: Stored = (None, None, None, None)


class BatchPublicity:
    """The publicity of one batch's records, computed from their checked values."""

    def __init__(self, dataset: Dataset, book: RuleBook) -> None:
        self.dataset = dataset.code
        self.book = book
        # Only the items the rules read make up the memo's key (compute() is a function of the
        # decision date and those items): records sharing them share the answer, and a batch's
        # records share them often (same day, same kind of penalty).
        self.fields = book.fields(dataset.code)
        self.end_fields = {
            rs.id: rs.datasets[dataset.code].department_end_field
            for rs in book.rule_sets
            if dataset.code in rs.datasets
        }
        self.names = {rs.id: rs.name for rs in book.rule_sets}
        self._memo: dict[tuple[Any, ...], tuple[Stored, Problem | None]] = {}
        # warnings of changed records by their id (they precede the batch's new records), then
        # of new records in the order they are inserted (the order of their ids)
        self._changed: list[tuple[int, int, Problem]] = []
        self._new: list[tuple[int, Problem]] = []

    def of(self, row: CheckedRow, record_id: int | None = None) -> Stored:
        """The four stored values of a record about to be written from ``row``; ``record_id``
        is the record a changed row replaces (None: a new record)."""
        data = row.data
        key = (row.decision_date, *(data.get(f) for f in self.fields))
        known = self._memo.get(key)
        if known is None:
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            known = self._memo[key] = self._compute(row.decision_date, data)
        stored, problem = known
        if problem is not None:
            if record_id is None:
                self._new.append((row.row_no, problem))
            else:
                self._changed.append((record_id, row.row_no, problem))
        return stored

    def warnings(self) -> list[tuple[int, Problem]]:
        """The receipt's warnings (row number, problem) in the order of the records' ids."""
        changed = [(row_no, p) for _, row_no, p in sorted(self._changed, key=lambda c: c[0])]
        return changed + self._new

    def _compute(
        self, decision: date | None, data: dict[str, Any]
    ) -> tuple[Stored, Problem | None]:
        pub = self.book.compute(self.dataset, decision, data)
        if pub is None:
            return _NONE, None
        cls = pub.penalty_class.value if pub.penalty_class else None
        stored: Stored = (pub.rule_id, cls, pub.min_end, pub.max_end)
        field = self.end_fields.get(pub.rule_id)
        given = parse_date(data.get(field)) if field else None
        if given is None or given == pub.max_end:
            return stored, None
        name = self.names[pub.rule_id]
        return stored, Problem(
            field,
            given.isoformat(),
            "PUBLICITY_END_MISMATCH",
            f"部门填写的公示截止期 {given.isoformat()} 与按“{name}”计算的 "
            f"{pub.max_end.isoformat()} 不一致，以计算结果为准",
        )


def batch_publicity(dataset: Dataset, *, book: RuleBook | None = None) -> BatchPublicity | None:
    """The publicity of a batch of ``dataset``, or None when no rule set names the dataset
    (its records keep no publicity period)."""
    if book is None:
        book = rule_book(Path(get_settings().catalog_dir))
    if not any(dataset.code in rs.datasets for rs in book.rule_sets):
        return None
    return BatchPublicity(dataset, book)
