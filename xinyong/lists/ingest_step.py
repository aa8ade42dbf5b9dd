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
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from xinyong import clock
from xinyong.batches.problems import CheckedRow, Problem
from xinyong.catalog.lists import KIND_ITEM, ListKind
from xinyong.catalog.schema import Dataset
from xinyong.db import rows_by_keys
from xinyong.lists.conflicts import applies_to, blocked_subjects
from xinyong.lists.events import (
    EXITED,
    LISTED,
    PRIOR_NOTICE_REQUIRED,
    EntryFacts,
    ExitReason,
    ListChange,
    _event,
    add_events,
    default_valid_until,
    notify,
)
from xinyong.lists.exits import _exit_many
from xinyong.lists.models import list_entries, list_entry_persons, list_notices
from xinyong.lists.notices import prior_notice_warning
from xinyong.measures.loaded import configured
from xinyong.records.models import records
from xinyong.subjects.models import subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import PERSON, SubjectRef
from xinyong.subjects.service import link_subjects

PAGE = 5000

_UPDATE_ENTRY = (
    update(list_entries)
    .where(list_entries.c.record_id == bindparam("rid"))
    .values(
        list_kind=bindparam("list_kind"),
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
    warnings: list[tuple[int, Problem]] = []
    defaulted: list[dict[str, Any]] = []
    for r in page:
        facts = EntryFacts.of(r.data, r.decision_date)
        kind = catalog.lists.kind(r.data.get(KIND_ITEM) or "")
        if facts.valid_until is None and facts.listed_on and kind and kind.validity_years:
            # 名单目录: the kind's default validity when the delivery gives none
            until = default_valid_until(facts.listed_on, kind.validity_years)
            facts = replace(facts, valid_until=until)
            defaulted.append({"rid": r.id, "until": until})
            warnings.append((r.row_no, _defaulted_warning(kind, until)))
        entry = {
            "record_id": r.id,
            "dataset": dataset.code,
            "list_kind": r.data.get(KIND_ITEM),
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
                    "list_kind": entry["list_kind"],
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
    _end_publicity(conn, defaulted)
    link_responsible_persons(conn, page)
    warnings += _suspended_red(conn, measures, dataset, page, today)
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
        warnings += _link_prior_notices(conn, dataset, page, {e["record_id"] for e in new_rows})
    return warnings


def _defaulted_warning(kind: ListKind, until: date) -> Problem:
    return Problem(
        "MD_YXQZ",
        None,
        "LIST_VALIDITY_DEFAULTED",
        f"未填写有效期至：按名单目录“{kind.name}”默认有效期 {kind.validity_years} 年，"
        f"有效期至 {until.isoformat()}；认定部门另有决定的请补报",
    )


_UNTIL = bindparam("until", type_=records.c.publicity_max_end.type)
_END_PUBLICITY = (
    update(records)
    .where(
        records.c.id == bindparam("rid"),
        or_(records.c.publicity_max_end.is_(None), records.c.publicity_max_end > _UNTIL),
    )
    .values(publicity_max_end=_UNTIL)
)


def _end_publicity(conn: Connection, defaulted: list[dict[str, Any]]) -> None:
    """An entry whose validity the register filled in is public no longer than that validity
    (the publicity rules ran before, from the empty 有效期至)."""
    if defaulted:
        conn.execute(_END_PUBLICITY, defaulted)


# HN-Reg art. 35: who an organisation's list entry names as responsible, by item
PERSON_ITEMS: tuple[tuple[str, str, str, str | None], ...] = (
    # (role, name item, ID number item, ID type item)
    ("legal_rep", "MD_ZRR", "MD_ZRR_ZJHM", "MD_ZRR_ZJLX"),
    ("controller", "MD_SJKZR", "MD_SJKZR_ZJHM", "MD_SJKZR_ZJLX"),
    ("responsible", "MD_ZJZRR", "MD_ZJZRR_ZJHM", "MD_ZJZRR_ZJLX"),
)
ID_CARD = "身份证"


def link_responsible_persons(conn: Connection, page: Sequence[Any]) -> None:
    """Rewrite the responsible persons of the page's entries from their records, each with an
    ID card number linked as a natural-person subject (created when new)."""
    rows: list[dict[str, Any]] = []
    refs: list[SubjectRef] = []
    for r in page:
        data = r.data if isinstance(r.data, dict) else {}
        if data.get("MD_ZTLB") == PERSON:
            continue  # a person on a list is their own subject
        for role, name_item, id_item, type_item in PERSON_ITEMS:
            name = (data.get(name_item) or "").strip()
            number = data.get(id_item)
            if type_item is not None and data.get(type_item) not in (None, ID_CARD):
                number = None  # a passport number is kept in the record, not linked
            if not name and not number:
                continue
            rows.append({"record_id": r.id, "role": role, "name": name or number, "sid": None})
            if number:
                refs.append(
                    SubjectRef(
                        category=PERSON,
                        name=name or number,
                        name_norm=normalize_name(name or number),
                        id_number=number,
                    )
                )
                rows[-1]["ref"] = len(refs) - 1
    ids = [r.id for r in page]
    for i in range(0, len(ids), 2000):
        conn.execute(
            delete(list_entry_persons).where(list_entry_persons.c.record_id.in_(ids[i : i + 2000]))
        )
    if not rows:
        return
    linked = link_subjects(conn, refs) if refs else []
    conn.execute(
        insert(list_entry_persons),
        [
            {
                "record_id": x["record_id"],
                "role": x["role"],
                "name": x["name"],
                "subject_id": linked[x["ref"]] if "ref" in x else None,
            }
            for x in rows
        ],
    )


def _suspended_red(
    conn: Connection, measures: Any, dataset: Dataset, page: Sequence[Any], today: Any
) -> list[tuple[int, Problem]]:
    """A receipt warning for each red entry stored while a conflict rule holds against its
    subject (rules with ``on_delivery: suspend``; ``refuse`` rules rejected the row before)."""
    if dataset.list_kind != "red":
        return []
    blocked = blocked_subjects(conn, measures, {r.subject_id for r in page}, today)
    out: list[tuple[int, Problem]] = []
    for r in page:
        hit = applies_to(blocked.get(r.subject_id, []), r.data.get(KIND_ITEM))
        if hit is not None:
            out.append((r.row_no, Problem(None, None, "RED_LIST_SUSPENDED", hit.message())))
    return out


def refuse_conflicts(conn: Connection, dataset: Dataset, rows: Sequence[CheckedRow]) -> None:
    """Before storing: reject the red entries a conflict rule with ``on_delivery: refuse``
    holds against (row-level, code RED_LIST_CONFLICT, the rule's reason)."""
    if dataset.list_kind != "red":
        return
    _, measures = configured()
    good = [(r, r.subject_id) for r in rows if r.ok and r.subject_id is not None]
    if not good or not measures.conflicts:
        return
    blocked = blocked_subjects(conn, measures, {sid for _, sid in good}, clock.today(conn))
    for r, sid in good:
        found = [b for b in blocked.get(sid, []) if b.rule.on_delivery == "refuse"]
        hit = applies_to(found, r.data.get(KIND_ITEM))
        if hit is not None:
            r.errors.append(
                Problem(KIND_ITEM, r.data.get(KIND_ITEM), "RED_LIST_CONFLICT", hit.message())
            )


def _change(kind: str, entry: dict[str, Any], name: str | None, facts: EntryFacts) -> ListChange:
    return ListChange(
        list_kind=entry["list_kind"],
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
