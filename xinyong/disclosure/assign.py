"""Giving a batch's stored records their publicity period (an after-batch step of ingestion).

Runs inside the batch's transaction, over ``records.batch_id == batch_id`` (the records the
batch created or changed), in keyed pages so that memory stays bounded: one SELECT and one
executemany UPDATE per page. The computed end wins over the department's own 公示截止期;
a different date there is a warning on the receipt, not a rejection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from xinyong.batches.problems import Problem
from xinyong.catalog.schema import Dataset
from xinyong.db import is_sqlite
from xinyong.disclosure.publicity import RuleBook, parse_date, rule_book
from xinyong.records.models import records
from xinyong.settings import get_settings

PAGE = 5000
_MEMO_MAX = 100_000  # distinct (date, items) answers held per batch


def _update(conn: Connection) -> tuple[str, Callable[[date | None], Any]]:
    """The driver-level UPDATE (SQLAlchemy's per-row parameter processing would double the
    step's time) and how a date is passed: ISO text as SQLAlchemy stores it on SQLite."""
    sqlite = is_sqlite(conn)
    mark = "?" if sqlite else "%s"
    sql = (
        f"UPDATE records SET publicity_rule = {mark}, publicity_class = {mark}, "
        f"publicity_min_end = {mark}, publicity_max_end = {mark} WHERE id = {mark}"
    )
    if sqlite:
        return sql, lambda d: d.isoformat() if d is not None else None
    return sql, lambda d: d


def assign_publicity(
    conn: Connection, dataset: Dataset, batch_id: int, *, book: RuleBook | None = None
) -> list[tuple[int, Problem]]:
    """Compute and store the publicity of the batch's records; warnings for the receipt."""
    if book is None:
        book = rule_book(Path(get_settings().catalog_dir))
    if not any(dataset.code in rs.datasets for rs in book.rule_sets):
        return []
    warnings: list[tuple[int, Problem]] = []
    # Only the items the rules read, extracted by the database: parsing each record's whole
    # JSON in Python would cost more than the rest of the step.
    fields = book.fields(dataset.code)
    values = [records.c.data[f].as_string() for f in fields]
    end_fields = {
        rs.id: rs.datasets[dataset.code].department_end_field
        for rs in book.rule_sets
        if dataset.code in rs.datasets
    }
    names = {rs.id: rs.name for rs in book.rule_sets}
    sql, as_date = _update(conn)

    def _publicity(
        decision: date | None, data: dict[str, Any]
    ) -> tuple[tuple[Any, ...], Problem | None]:
        """The four stored values and the receipt's warning, if any, for one record."""
        pub = book.compute(dataset.code, decision, data)
        if pub is None:
            return (None, None, None, None), None
        cls = pub.penalty_class.value if pub.penalty_class else None
        stored = (pub.rule_id, cls, as_date(pub.min_end), as_date(pub.max_end))
        field = end_fields.get(pub.rule_id)
        given = parse_date(data.get(field)) if field else None
        if given is None or given == pub.max_end:
            return stored, None
        name = names[pub.rule_id]
        return stored, Problem(
            field,
            given.isoformat(),
            "PUBLICITY_END_MISMATCH",
            f"部门填写的公示截止期 {given.isoformat()} 与按“{name}”计算的 "
            f"{pub.max_end.isoformat()} 不一致，以计算结果为准",
        )

    memo: dict[tuple[Any, ...], tuple[tuple[Any, ...], Problem | None]] = {}
    last = 0
    while True:
        page = conn.execute(
            select(records.c.id, records.c.row_no, records.c.decision_date, *values)
            .where(records.c.batch_id == batch_id, records.c.id > last)
            .order_by(records.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return warnings
        last = page[-1].id
        params: list[tuple[Any, ...]] = []
        for row in page:
            # compute() is a function of the decision date and the items the rules read
            # (exactly what the page selected): records sharing them share the answer, and
            # a batch's records share them often (same day, same kind of penalty).
            key = (row.decision_date, *row[3:])
            known = memo.get(key)
            if known is None:
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                data = dict(zip(fields, row[3:], strict=True))
                known = memo[key] = _publicity(row.decision_date, data)
            stored, problem = known
            params.append((*stored, row.id))
            if problem is not None:
                warnings.append((row.row_no, problem))
        conn.exec_driver_sql(sql, params)
