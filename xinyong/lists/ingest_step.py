"""List entries, changes and exits arriving through ingestion (an after-batch step).

Runs in the batch's transaction over the records the batch created or changed
(``records.batch_id``), in keyed pages: a fixed number of statements per page, whatever the
batch size. For each record of a list dataset it keeps ``list_entries`` in step, appends the
``list_events`` that answer "which lists was this subject on at date D", links the written
prior notice (warning on the receipt when a YZSX entry has none) and enqueues the
notifications to the implementing departments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from xinyong import clock
from xinyong.batches.problems import Problem
from xinyong.catalog.schema import Dataset
from xinyong.db import rows_by_keys
from xinyong.lists.events import (
    EXITED,
    LISTED,
    PRIOR_NOTICE_REQUIRED,
    EntryFacts,
    ExitReason,
    ListChange,
    _event,
    add_events,
    notify,
)
from xinyong.lists.exits import _exit_many
from xinyong.lists.models import list_entries, list_notices
from xinyong.lists.notices import prior_notice_warning
from xinyong.measures.loaded import configured
from xinyong.records.models import records
from xinyong.subjects.models import subjects

PAGE = 5000

_UPDATE_ENTRY = (
    update(list_entries)
    .where(list_entries.c.record_id == bindparam("rid"))
    .values(
        listed_on=bindparam("listed_on", type_=list_entries.c.listed_on.type),
        valid_until=bindparam("valid_until", type_=list_entries.c.valid_until.type),
        status=bindparam("status"),
        exited_on=bindparam("exited_on", type_=list_entries.c.exited_on.type),
        updated_at=bindparam("now", type_=list_entries.c.updated_at.type),
    )
)


def record_list_changes(
    conn: Connection, dataset: Dataset, batch_id: int
) -> list[tuple[int, Problem]]:
    """The after-batch step: list events and notifications for a list dataset's batch."""
    if not dataset.list_kind:
        return []
    catalog, measures = configured()
    warnings: list[tuple[int, Problem]] = []
    last = 0
    while True:
        page = conn.execute(
            select(
                records.c.id,
                records.c.row_no,
                records.c.subject_id,
                records.c.dept_uscc,
                records.c.version,
                records.c.data,
                records.c.decision_date,
                subjects.c.name,
            )
            .select_from(records.outerjoin(subjects, subjects.c.id == records.c.subject_id))
            .where(records.c.batch_id == batch_id, records.c.id > last)
            .order_by(records.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return warnings
        last = page[-1].id
        warnings.extend(_page(conn, catalog, measures, dataset, batch_id, page))


def _page(
    conn: Connection,
    catalog: Any,
    measures: Any,
    dataset: Dataset,
    batch_id: int,
    page: Sequence[Any],
) -> list[tuple[int, Problem]]:
    now = clock.now(conn)
    today = clock.today(conn)
    known = {
        r.record_id: r
        for r in rows_by_keys(
            conn,
            (list_entries.c.record_id, list_entries.c.status),
            list_entries.c.record_id,
            [r.id for r in page],
        )
    }
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    changes: list[ListChange] = []
    exits: list[tuple[dict[str, Any], EntryFacts]] = []
    for r in page:
        facts = EntryFacts.of(r.data, r.decision_date)
        entry = {
            "record_id": r.id,
            "dataset": dataset.code,
            "subject_id": r.subject_id,
            "dept_uscc": r.dept_uscc,
            "listed_on": facts.listed_on,
            "valid_until": facts.valid_until,
            "version": r.version,
        }
        old = known.get(r.id)
        exiting = facts.exited_on is not None and facts.exited_on <= today
        if old is None:
            new_rows.append(
                {
                    **{k: v for k, v in entry.items() if k != "version"},
                    "exited_on": None,
                    "exit_reason": None,
                    "status": LISTED,
                    "prior_notice_id": None,
                    "updated_at": now,
                }
            )
            events.append(
                _event(
                    r.id,
                    r.subject_id,
                    dataset.code,
                    "entered",
                    facts.listed_on or today,
                    facts.valid_until,
                    f"batch:{batch_id}",
                    batch_id=batch_id,
                    now=now,
                )
            )
            changes.append(_change("list.entered", entry, r.name, facts))
        else:
            relisted = old.status == EXITED and not exiting
            updates.append(
                {
                    "rid": r.id,
                    "listed_on": facts.listed_on,
                    "valid_until": facts.valid_until,
                    "status": LISTED if (old.status == LISTED or relisted) else EXITED,
                    "exited_on": None if relisted else facts.exited_on,
                    "now": now,
                }
            )
            if old.status == LISTED or relisted:
                events.append(
                    _event(
                        r.id,
                        r.subject_id,
                        dataset.code,
                        "entered" if relisted else "changed",
                        today,
                        facts.valid_until,
                        f"batch:{batch_id}",
                        batch_id=batch_id,
                        now=now,
                    )
                )
                if not exiting:
                    changes.append(_change("list.changed", entry, r.name, facts))
        if exiting and (old is None or old.status == LISTED):
            exits.append((entry, facts))
    if new_rows:
        conn.execute(insert(list_entries), new_rows)
    if updates:
        conn.execute(_UPDATE_ENTRY, updates)
    add_events(conn, events)
    notify(conn, measures, changes)
    # exits reported by the department in the delivery (移出日期, 移出原因)
    by_reason: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for entry, facts in exits:
        key = (facts.exited_on, facts.exit_reason or "认定部门决定移出")
        by_reason.setdefault(key, []).append(entry)
    for (on, basis), entries in by_reason.items():
        _exit_many(
            conn,
            catalog,
            measures,
            entries,
            reason=ExitReason.SOURCE,
            on=on,
            basis=basis,
            actor=f"batch:{batch_id}",
            batch_id=batch_id,
        )
    if dataset.code in PRIOR_NOTICE_REQUIRED:
        return _link_prior_notices(conn, dataset, page, {e["record_id"] for e in new_rows})
    return []


def _change(kind: str, entry: dict[str, Any], name: str | None, facts: EntryFacts) -> ListChange:
    return ListChange(
        kind=kind,
        record_id=entry["record_id"],
        version=entry["version"],
        dataset=entry["dataset"],
        subject_id=entry["subject_id"],
        subject_name=name,
        dept_uscc=entry["dept_uscc"],
        listed_on=facts.listed_on,
        valid_until=facts.valid_until,
        exited_on=None,
    )


def _link_prior_notices(
    conn: Connection, dataset: Dataset, page: Sequence[Any], new_ids: set[int]
) -> list[tuple[int, Problem]]:
    """Link each new entry to the earliest unused prior notice of its department for the
    subject served on or before the listing date; warn for entries without one."""
    fresh = [r for r in page if r.id in new_ids]
    subject_ids = {r.subject_id for r in fresh if r.subject_id is not None}
    notices: dict[tuple[int, str], list[Any]] = {}
    for n in rows_by_keys(
        conn,
        (
            list_notices.c.id,
            list_notices.c.subject_id,
            list_notices.c.dept_uscc,
            list_notices.c.served_on,
        ),
        list_notices.c.subject_id,
        subject_ids,
        list_notices.c.kind == "prior",
        list_notices.c.dataset == dataset.code,
        list_notices.c.record_id.is_(None),
    ):
        notices.setdefault((n.subject_id, n.dept_uscc), []).append(n)
    for group in notices.values():
        group.sort(key=lambda n: (n.served_on, n.id))
    warnings: list[tuple[int, Problem]] = []
    code, message = prior_notice_warning(dataset.name)
    for r in fresh:
        listed_on = EntryFacts.of(r.data, r.decision_date).listed_on
        group = notices.get((r.subject_id, r.dept_uscc), [])
        match = next((n for n in group if listed_on is None or n.served_on <= listed_on), None)
        if match is None:
            warnings.append((r.row_no, Problem(None, None, code, message)))
            continue
        group.remove(match)
        conn.execute(
            update(list_notices).where(list_notices.c.id == match.id).values(record_id=r.id)
        )
        conn.execute(
            update(list_entries)
            .where(list_entries.c.record_id == r.id)
            .values(prior_notice_id=match.id)
        )
    return warnings
