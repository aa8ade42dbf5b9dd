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
            data = dict(zip(fields, row[3:], strict=True))
            pub = book.compute(dataset.code, row.decision_date, data)
            if pub is None:
                params.append((None, None, None, None, row.id))
                continue
            cls = pub.penalty_class.value if pub.penalty_class else None
            params.append((pub.rule_id, cls, as_date(pub.min_end), as_date(pub.max_end), row.id))
            field = end_fields.get(pub.rule_id)
            given = parse_date(data.get(field)) if field else None
            if given is not None and given != pub.max_end:
                name = names[pub.rule_id]
                warnings.append(
                    (
                        row.row_no,
                        Problem(
                            field,
                            given.isoformat(),
                            "PUBLICITY_END_MISMATCH",
                            f"部门填写的公示截止期 {given.isoformat()} 与按“{name}”计算的 "
                            f"{pub.max_end.isoformat()} 不一致，以计算结果为准",
                        ),
                    )
                )
        conn.exec_driver_sql(sql, params)
