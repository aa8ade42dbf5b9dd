"""Work other domains do once a batch's records are stored, inside the batch's transaction.

Each step is set-based over the batch (``records.batch_id``): computing publicity periods,
list entries and exits, notifications to subscribed departments. A step may return warnings
for the receipt; an exception rolls the whole batch back like any other failure.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from xinyong.batches.problems import Problem
from xinyong.catalog.schema import Dataset

# (connection, dataset, batch id) -> warnings as (row number, problem)
AfterBatch = Callable[[Connection, Dataset, int], list[tuple[int, Problem]]]


def steps() -> list[AfterBatch]:
    """The steps, in order. Imported here, not at the top, so that the domains may import the
    ingestion package without a cycle."""
    from xinyong.disclosure.assign import assign_publicity
    from xinyong.lists.ingest_step import record_list_changes
    from xinyong.notifications.subscriptions import notify_new_records

    return [assign_publicity, record_list_changes, notify_new_records]


def after_batch(conn: Connection, dataset: Dataset, batch_id: int) -> list[tuple[int, Problem]]:
    warnings: list[tuple[int, Problem]] = []
    for step in steps():
        warnings.extend(step(conn, dataset, batch_id))
    return warnings
