"""变更: the designating department corrects a list entry outside a delivery (its dates, legal
basis, designating document, listing facts, responsible persons), with a reason.

The record keeps its history like any other change: the version before goes to
``record_versions`` (change 变更), the entry's dates follow in ``list_entries``, a ``changed``
list event says which lists the subject was on when, the publicity end is computed again from
the new validity, the change is audited, and the departments implementing the entry's measures
are told (``list.changed``), as for a listing or an exit (Henan arts. 33, 37).

The content hash of the record is kept: a resend of the department's original row is then
'unchanged' and cannot undo the correction; a later delivery that differs is a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from xinyong import clock
from xinyong.accounts.policy import require_may_act_on, require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.codes import check_code
from xinyong.disclosure.publicity import rule_book
from xinyong.errors import Conflict, XinyongError
from xinyong.lists.events import EXITED, EntryFacts, ListChange, _entry, _event, add_events, notify
from xinyong.lists.ingest_step import ID_CARD, PERSON_ITEMS, link_responsible_persons
from xinyong.lists.models import list_entries
from xinyong.measures.catalog import Measures
from xinyong.records.keys import KEY_SEP
from xinyong.records.models import record_keys, record_versions, records
from xinyong.subjects.models import subjects

HIDDEN = "没有找到该名单条目"

# what a change may correct: the field the caller names → the shared list item
FIELDS: dict[str, tuple[str, str]] = {
    "listed_on": ("MD_LRRQ", "列入日期"),
    "valid_until": ("MD_YXQZ", "有效期至"),
    "basis": ("MD_RDYJ", "认定依据"),
    "facts": ("MD_LRSY", "列入事由"),
    "doc_no": ("MD_WSH", "认定文书号"),
}
ROLES = {role: (name, number, kind) for role, name, number, kind in PERSON_ITEMS}


ROLE_LABELS = {
    "legal_rep": "法定代表人/主要负责人",
    "controller": "实际控制人",
    "responsible": "直接责任人",
}


def current_fields(catalog: Catalog, dataset: str, data: dict[str, Any]) -> list[dict[str, str]]:
    """What a change may correct, as the entry holds it now (labels and values; an ID number
    only as present or not), for the clerk's page."""
    items = {i.code for i in catalog.dataset(dataset).items}
    out = [
        {"label": label, "value": str(data.get(code) or "")}
        for field, (code, label) in FIELDS.items()
        if code in items and field not in ("listed_on", "valid_until")
    ]
    for role, (name_item, id_item, _) in ROLES.items():
        if name_item in items and data.get(name_item):
            has_id = "（已登记身份证号码）" if data.get(id_item) else ""
            out.append({"label": ROLE_LABELS[role], "value": f"{data[name_item]}{has_id}"})
    return out


@dataclass(frozen=True)
class Person:
    """A responsible person as the change gives it: name and an ID card number (or none)."""

    name: str
    id_number: str | None = None


@dataclass(frozen=True)
class EntryChange:
    """What to correct; None leaves a field as it is. ``valid_until_cleared`` makes the entry
    valid until removed (no 有效期至)."""

    listed_on: date | None = None
    valid_until: date | None = None
    valid_until_cleared: bool = False
    basis: str | None = None
    facts: str | None = None
    doc_no: str | None = None
    # role (legal_rep / controller / responsible) → the person, or None to remove
    persons: tuple[tuple[str, Person | None], ...] = ()


def _new_values(
    conn: Connection, catalog: Catalog, dataset: str, data: dict[str, Any], change: EntryChange
) -> dict[str, str]:
    """The items the change sets (item code → new text), checked."""
    items = {i.code for i in catalog.dataset(dataset).items}
    out: dict[str, str] = {}

    def put(code: str, label: str, value: str) -> None:
        if code not in items:
            name = catalog.dataset(dataset).name
            raise XinyongError("LIST_FIELD_UNKNOWN", f"{name}没有“{label}”")
        out[code] = value

    for field, (code, label) in FIELDS.items():
        value = getattr(change, field)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise XinyongError("LIST_FIELD_EMPTY", f"{label}不能改为空")
            put(code, label, value)
        else:
            put(code, label, value.isoformat())
    if change.valid_until_cleared:
        if change.valid_until is not None:
            raise XinyongError("LIST_CHANGE_CONFLICT", "不能同时给出有效期至和“长期有效”")
        put("MD_YXQZ", "有效期至", "")
    today = clock.today(conn)
    for role, person in change.persons:
        if role not in ROLES:
            raise XinyongError("LIST_ROLE_UNKNOWN", f"责任人角色只能是 {'、'.join(ROLES)}")
        name_item, id_item, type_item = ROLES[role]
        if person is None:
            put(name_item, "责任人", "")
            if id_item in items:
                out[id_item] = ""
            if type_item and type_item in items:
                out[type_item] = ""
            continue
        if not person.name.strip():
            raise XinyongError("LIST_FIELD_EMPTY", "责任人姓名不能为空")
        put(name_item, "责任人", person.name.strip())
        number = (person.id_number or "").strip()
        if number:
            found = check_code(number, today)
            if found.kind != "id_number" or not found.ok:
                raise XinyongError("ID_NUMBER_INVALID", f"责任人身份证号码无效：{found.message}")
            number = found.value
        if id_item in items:
            out[id_item] = number
        if type_item and type_item in items:
            out[type_item] = ID_CARD if number else ""
    if not out:
        raise XinyongError("LIST_CHANGE_EMPTY", "没有要变更的内容")
    return {k: v for k, v in out.items() if (data.get(k) or "") != v}


def change_entry(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    record_id: int,
    change: EntryChange,
    *,
    reason: str,
) -> dict[str, Any]:
    """Correct a list entry (变更) and tell the implementing departments. Returns the entry's
    changed items as {item: [before, after]}; nothing changed is refused."""
    require_role(principal, Role.CLERK, Role.DEPT_SYSTEM, Role.OPERATOR)
    entry = _entry(conn, record_id)
    require_may_act_on(principal, entry["dept_uscc"], what="list_entry", hide=True, message=HIDDEN)
    if not reason.strip():
        raise XinyongError("REASON_REQUIRED", "变更须说明理由")
    if entry["status"] == EXITED:
        raise Conflict("LIST_ALREADY_EXITED", f"该条目已于 {entry['exited_on']} 移出，不能变更")
    record = dict(conn.execute(select(records).where(records.c.id == record_id)).one()._mapping)
    data: dict[str, Any] = dict(record["data"])
    new = _new_values(conn, catalog, entry["dataset"], data, change)
    if not new:
        raise XinyongError("LIST_CHANGE_SAME", "变更后的内容与现有内容相同")
    before = {k: data.get(k) or "" for k in new}
    data.update(new)
    facts = EntryFacts.of(data, None)
    today = clock.today(conn)
    if facts.listed_on is None:
        raise XinyongError("LIST_FIELD_EMPTY", "列入日期不能为空")
    if facts.listed_on > today:
        raise XinyongError(
            "LIST_DATE_FUTURE", f"列入日期 {facts.listed_on} 不能晚于今天（{today}）"
        )
    if facts.valid_until is not None and facts.valid_until < facts.listed_on:
        raise XinyongError(
            "LIST_DATE_ORDER", f"有效期至 {facts.valid_until} 早于列入日期 {facts.listed_on}"
        )
    ds = catalog.dataset(entry["dataset"])
    now = clock.now(conn)
    key = _new_key(conn, ds.natural_key, record, new)
    conn.execute(
        insert(record_versions).values(
            record_id=record_id,
            version=record["version"],
            subject_id=record["subject_id"],
            dept_uscc=record["dept_uscc"],
            state=record["state"],
            content_hash=record["content_hash"],
            data=record["data"],
            raw=record["raw"],
            batch_id=record["batch_id"],
            row_no=record["row_no"],
            valid_from=record["updated_at"],
            valid_to=now,
            superseded_by_batch=None,
            change=f"变更（{principal.name}）：{reason.strip()}",
        )
    )
    decision = facts.listed_on if ds.decision_date == "MD_LRRQ" else record["decision_date"]
    pub = rule_book(Path(catalog.root)).compute(ds.code, decision, data)
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(
            data=data,
            natural_key=key,
            decision_date=decision,
            version=record["version"] + 1,
            updated_at=now,
            **(
                {
                    "publicity_rule": pub.rule_id,
                    "publicity_class": pub.penalty_class.value if pub.penalty_class else None,
                    "publicity_min_end": pub.min_end,
                    "publicity_max_end": pub.max_end,
                }
                if pub is not None
                else {}
            ),
        )
    )
    conn.execute(
        update(list_entries)
        .where(list_entries.c.record_id == record_id)
        .values(listed_on=facts.listed_on, valid_until=facts.valid_until, updated_at=now)
    )
    if any(k in new for _, (n, i, _t) in ROLES.items() for k in (n, i)):
        link_responsible_persons(conn, [SimpleNamespace(id=record_id, data=data)])
    add_events(
        conn,
        [
            _event(
                record_id,
                entry["subject_id"],
                entry["dataset"],
                "changed",
                today,
                facts.valid_until,
                principal.name,
                reason=reason.strip(),
                now=now,
            )
        ],
    )
    name = conn.execute(
        select(subjects.c.name).where(subjects.c.id == entry["subject_id"])
    ).scalar()
    notify(
        conn,
        measures,
        [
            ListChange(
                kind="list.changed",
                record_id=record_id,
                version=record["version"] + 1,
                dataset=entry["dataset"],
                subject_id=entry["subject_id"],
                subject_name=name,
                dept_uscc=entry["dept_uscc"],
                listed_on=facts.listed_on,
                valid_until=facts.valid_until,
                exited_on=None,
                reason=reason.strip(),
                list_kind=entry.get("list_kind"),
            )
        ],
    )
    changed = {k: [before[k], new[k]] for k in new}
    audit.append_for(
        conn,
        principal,
        action="list.change",
        dept_uscc=entry["dept_uscc"],
        record_id=record_id,
        subject_id=entry["subject_id"],
        purpose=reason.strip(),
        # ID numbers are not copied into the audit log: only that they changed
        detail={
            "changed": {k: ("（已变更）" if k.endswith("_ZJHM") else v) for k, v in changed.items()}
        },
    )
    return changed


def _new_key(
    conn: Connection,
    key_items: tuple[str, ...] | list[str],
    record: dict[str, Any],
    new: dict[str, str],
) -> str:
    """The record's natural key after the change (the designating document is part of it); the
    old key stays an alias (``record_keys``) so the department's next delivery of the old row
    still finds this record. A key another record holds is refused."""
    old: str = record["natural_key"]
    if not any(k in new for k in key_items):
        return old
    parts = old.split(KEY_SEP)
    key = KEY_SEP.join(
        new.get(item, part) if item != "subject" else part
        for item, part in zip(key_items, parts, strict=True)
    )
    holder: int | None = conn.execute(
        select(records.c.id).where(
            records.c.dataset == record["dataset"],
            records.c.natural_key == key,
            records.c.id != record["id"],
        )
    ).scalar()
    aliased: dict[str, int] = {
        k: rid
        for k, rid in conn.execute(
            select(record_keys.c.natural_key, record_keys.c.record_id).where(
                record_keys.c.dataset == record["dataset"],
                record_keys.c.natural_key.in_([key, old]),
            )
        ).tuples()
    }
    if holder is None and aliased.get(key, record["id"]) != record["id"]:
        holder = aliased[key]
    if holder is not None:
        raise Conflict("RECORD_KEY_TAKEN", f"已有同一认定文书号的名单条目（记录 {holder}）")
    if old not in aliased:
        conn.execute(
            insert(record_keys).values(
                dataset=record["dataset"], natural_key=old, record_id=record["id"]
            )
        )
    return key
