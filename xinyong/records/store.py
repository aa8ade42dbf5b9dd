"""Storing checked rows as records: new, unchanged, a new version, or refused.

Rows are compared with what is stored by natural key and by the hash of their normalised
values, so a resent file changes nothing and ``2023/05/01`` equals ``2023-05-01``. A changed
row becomes a new version and the replaced one moves to ``record_versions``: nothing is
overwritten, nothing deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Insert, bindparam, insert, literal, select, update

from xinyong.batches.problems import CheckedRow, Problem
from xinyong.catalog.schema import Dataset
from xinyong.db import bulk_insert, dumps, rows_by_keys, timestamp_param
from xinyong.records.keys import show_key
from xinyong.records.models import record_keys, record_versions, records
from xinyong.records.states import PUBLISHED, WITHDRAWN
from xinyong.subjects.service import database_of

PENDING_NO_CODE = (
    "未提供任何主体代码（统一社会信用代码、组织机构代码、工商注册号或证件号码），待人工关联"
)

_NEW_COLUMNS = (
    "dataset",
    "natural_key",
    "subject_id",
    "database",
    "dept_uscc",
    "state",
    "version",
    "content_hash",
    "data",
    "raw",
    "decision_date",
    "batch_id",
    "row_no",
    "pending_reason",
    "created_at",
    "updated_at",
    "publicity_rule",
    "publicity_class",
    "publicity_min_end",
    "publicity_max_end",
)
_IN_CHUNK = 2000

# A record's publicity as it is written (disclosure.assign.BatchPublicity.of): the row, the id
# of the record it replaces (None: a new record) → (rule, class, minimum end, maximum end).
# Passed in by ingestion: records sit below the disclosure rules and do not import them.
Publicity = Callable[[CheckedRow, int | None], tuple[Any, Any, Any, Any]]
_NO_PUBLICITY: tuple[Any, Any, Any, Any] = (None, None, None, None)


@dataclass
class StoreOutcome:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0
    stored: list[CheckedRow] = field(default_factory=list)  # new and updated rows


@dataclass(slots=True)
class _Existing:
    id: int
    content_hash: str
    dept_uscc: str
    batch_id: int
    row_no: int
    state: str
    subject_id: int | None


_EXISTING_COLUMNS = (
    records.c.id,
    records.c.content_hash,
    records.c.dept_uscc,
    records.c.batch_id,
    records.c.row_no,
    records.c.state,
    records.c.subject_id,
)


_ANY_ALIAS = select(record_keys.c.id).where(record_keys.c.dataset == bindparam("dataset")).limit(1)


def _existing(conn: Connection, dataset: str, keys: Sequence[str]) -> dict[str, _Existing]:
    rows = rows_by_keys(
        conn,
        (records.c.natural_key, *_EXISTING_COLUMNS),
        records.c.natural_key,
        keys,
        records.c.dataset == dataset,
    )
    found = {key: _Existing(*rest) for key, *rest in rows}
    # A key not found may be an old key of a record: a pending row's (the subject named only by
    # name) once the record was linked, or a list entry's whose designating document a clerk
    # corrected (``lists.change``). Most datasets have no old keys: one probe says so.
    unlinked = [k for k in keys if k not in found]
    if unlinked and conn.execute(_ANY_ALIAS, {"dataset": dataset}).first() is not None:
        aliases: dict[int, str] = {
            rid: key
            for rid, key in rows_by_keys(
                conn,
                (record_keys.c.record_id, record_keys.c.natural_key),
                record_keys.c.natural_key,
                unlinked,
                record_keys.c.dataset == dataset,
            )
        }
        if aliases:
            for rid, *rest in rows_by_keys(conn, _EXISTING_COLUMNS, records.c.id, set(aliases)):
                found[aliases[rid]] = _Existing(rid, *rest)
    return found


@dataclass
class FileKeys:
    """What one delivery knows of its natural keys across chunks (owned by the batch).

    Rows stored by earlier chunks are found in the database; only keys that repeat, keys left
    unchanged and keys of conflicting groups are held here, by hash: a few dozen bytes a row.
    ``known`` carries every conflicting group of the file, by key hash, found by a scan of the
    whole file (see ``xinyong.ingest.service``); ``rerun`` collects the groups whose conflict
    spans chunks and was not known, which only a pass knowing them can reject as a whole.
    """

    unchanged: dict[int, int] = field(default_factory=dict)  # key hash → its first row
    groups: dict[int, list[int]] = field(default_factory=dict)  # repeated key hash → rows
    conflicted: set[int] = field(default_factory=set)  # key hashes rejected as conflicting
    rerun: dict[str, list[int]] = field(default_factory=dict)
    known: dict[int, list[int]] = field(default_factory=dict)  # key hash → all its rows


def store_rows(
    conn: Connection,
    dataset: Dataset,
    dept_uscc: str,
    batch_id: int,
    rows: Sequence[CheckedRow],
    now: datetime,
    keys: FileKeys | None = None,
    publicity: Publicity | None = None,
) -> StoreOutcome:
    """Store the rows that passed their checks; rows refused here get a Problem added.

    Rows of one file that repeat a natural key: identical repeats are one row (the repeats
    count as unchanged, with a warning each); repeats that differ are all rejected and none is
    stored, so neither the file nor its rejects file can flip a record when resent. Each
    record written gets its publicity from ``publicity`` in the same statement (none without).
    """
    if keys is None:
        keys = FileKeys()
    outcome = StoreOutcome()
    groups: dict[str, list[CheckedRow]] = {}
    for row in rows:
        if row.ok:
            assert row.natural_key is not None
            groups.setdefault(row.natural_key, []).append(row)
    existing = _existing(conn, dataset.code, list(groups))

    candidates: list[tuple[CheckedRow, _Existing | None]] = []
    repeats: list[tuple[CheckedRow, list[CheckedRow]]] = []
    for key, group in groups.items():
        numbers = [r.row_no for r in group]
        h = hash(key)
        if h in keys.known:
            _conflict(group, keys.known[h])
            continue
        old = existing.get(key)
        earlier = _earlier_rows(keys, h, old, batch_id)
        if key in keys.rerun:
            keys.rerun[key].extend(numbers)
            _conflict(group, keys.rerun[key])
            continue
        if earlier is not None:
            # the key was seen in an earlier chunk of this file
            if (
                h in keys.conflicted
                or old is None
                or any(r.content_hash != old.content_hash for r in group)
            ):
                rows_of_key = keys.rerun.setdefault(key, list(earlier))
                rows_of_key.extend(numbers)
                _conflict(group, rows_of_key)  # provisional: a second pass rejects them all
                continue
            for r in group:
                _identical(r, earlier[0])
                outcome.unchanged += 1
            keys.groups.setdefault(h, list(earlier)).extend(numbers)
            continue
        if len({r.content_hash for r in group}) > 1:
            _conflict(group, numbers)
            keys.conflicted.add(h)
            keys.groups[h] = numbers
            continue
        if len(group) > 1:
            keys.groups[h] = numbers
            repeats.append((group[0], group[1:]))
        candidates.append((group[0], old))

    ts = timestamp_param(conn, now)
    new_rows: list[tuple[Any, ...]] = []
    changed: list[tuple[CheckedRow, _Existing]] = []
    for row, old in candidates:
        if old is None:
            pub = publicity(row, None) if publicity is not None else _NO_PUBLICITY
            new_rows.append(_new_row(dataset, dept_uscc, batch_id, row, ts, pub))
            outcome.stored.append(row)
            if row.subject_id is None:
                outcome.pending += 1
            else:
                outcome.new += 1
        elif old.dept_uscc != dept_uscc:
            row.errors.append(
                Problem(
                    None,
                    show_key(row.natural_key),  # type: ignore[arg-type]
                    "RECORD_NOT_OWNER",
                    f"该记录由其他部门（{old.dept_uscc}）报送，本部门不能更正",
                )
            )
        elif old.content_hash == row.content_hash:
            keys.unchanged[hash(row.natural_key)] = row.row_no
            outcome.unchanged += 1
        elif old.state == WITHDRAWN:
            row.errors.append(
                Problem(
                    None,
                    show_key(row.natural_key),  # type: ignore[arg-type]
                    "RECORD_WITHDRAWN",
                    "该记录已撤销，不能再更正；如属新决定，请使用新的文书号",
                )
            )
        else:
            changed.append((row, old))
            outcome.stored.append(row)
            outcome.updated += 1
    for first, others in repeats:
        for r in others:
            if first.ok:
                _identical(r, first.row_no)
                outcome.unchanged += 1
            else:
                r.errors.extend(first.errors)  # the first row's refusal holds for its copies
        if not first.ok:
            keys.groups.pop(hash(first.natural_key), None)  # refused keys are not remembered
    if new_rows:
        bulk_insert(conn, records, _NEW_COLUMNS, new_rows)
    if changed:
        _new_versions(conn, dataset, batch_id, changed, now, publicity)
    return outcome


def _earlier_rows(keys: FileKeys, h: int, old: _Existing | None, batch_id: int) -> list[int] | None:
    """The rows of earlier chunks with this key (first row first), or None when it is new."""
    if h in keys.groups:
        return keys.groups[h]
    if h in keys.unchanged:
        return [keys.unchanged[h]]
    if old is not None and old.batch_id == batch_id:
        return [old.row_no]
    return None


def _rows_text(numbers: Sequence[int]) -> str:
    shown = "、".join(str(n) for n in numbers[:20])
    return shown + (f" 等 {len(numbers)} 行" if len(numbers) > 20 else " 行")


def _conflict(group: Sequence[CheckedRow], numbers: Sequence[int]) -> None:
    for row in group:
        others = [n for n in dict.fromkeys(numbers) if n != row.row_no]
        row.errors.append(
            Problem(
                None,
                show_key(row.natural_key or ""),
                "KEY_CONFLICT_IN_FILE",
                f"与本文件第 {_rows_text(others)}的业务主键相同而内容不同，这些行均未入库；"
                "请核对后每个业务主键只保留一行重新报送",
            )
        )


def _identical(row: CheckedRow, first_row: int) -> None:
    row.warnings.append(
        Problem(
            None,
            show_key(row.natural_key or ""),
            "KEY_REPEATED_IN_FILE",
            f"与本文件第 {first_row} 行完全相同（同一业务主键），按一条记录处理",
        )
    )


def _database(dataset: Dataset, row: CheckedRow) -> str:
    if dataset.database is not None:
        return dataset.database.value
    assert row.subject is not None
    return database_of(row.subject.category, row.subject.uscc)


def _new_row(
    dataset: Dataset,
    dept_uscc: str,
    batch_id: int,
    row: CheckedRow,
    ts: Any,
    pub: tuple[Any, Any, Any, Any],
) -> tuple[Any, ...]:
    rule, cls, min_end, max_end = pub
    return (
        dataset.code,
        row.natural_key,
        row.subject_id,
        _database(dataset, row),
        dept_uscc,
        PUBLISHED,
        1,
        row.content_hash,
        dumps(row.data),
        row.raw_json,
        row.decision_date.isoformat() if row.decision_date else None,
        batch_id,
        row.row_no,
        None if row.subject_id is not None else PENDING_NO_CODE,
        ts,
        ts,
        rule,
        cls,
        min_end.isoformat() if min_end is not None else None,
        max_end.isoformat() if max_end is not None else None,
    )


def _new_versions(
    conn: Connection,
    dataset: Dataset,
    batch_id: int,
    changed: list[tuple[CheckedRow, _Existing]],
    now: datetime,
    publicity: Publicity | None,
) -> None:
    """Move the versions in force to history (one INSERT … SELECT), then write the new ones."""
    ids = [old.id for _, old in changed]
    for i in range(0, len(ids), _IN_CHUNK):
        part = ids[i : i + _IN_CHUNK]
        conn.execute(
            archive_versions(
                records.c.id.in_(bindparam("ids", expanding=True)),
                ended_at=now,
                batch_id=batch_id,
                change="更正",
            ),
            {"ids": part},
        )
    stmt = (
        update(records)
        .where(records.c.id == bindparam("rid"))
        .values(
            version=records.c.version + 1,
            content_hash=bindparam("h"),
            data=bindparam("d", type_=records.c.data.type),
            raw=bindparam("r", type_=records.c.raw.type),
            decision_date=bindparam("dd", type_=records.c.decision_date.type),
            subject_id=bindparam("sid"),
            database=bindparam("db"),
            batch_id=bindparam("bid"),
            row_no=bindparam("rn"),
            pending_reason=bindparam("pr"),
            updated_at=bindparam("ts", type_=records.c.updated_at.type),
            publicity_rule=bindparam("pr_rule"),
            publicity_class=bindparam("pr_class"),
            publicity_min_end=bindparam("pr_min", type_=records.c.publicity_min_end.type),
            publicity_max_end=bindparam("pr_max", type_=records.c.publicity_max_end.type),
        )
    )
    pubs = [
        publicity(row, old.id) if publicity is not None else _NO_PUBLICITY for row, old in changed
    ]
    conn.execute(
        stmt,
        [
            {
                "pr_rule": pub[0],
                "pr_class": pub[1],
                "pr_min": pub[2],
                "pr_max": pub[3],
                "rid": old.id,
                "h": row.content_hash,
                "d": row.data,
                "r": orjson.loads(row.raw_json),
                "dd": row.decision_date,
                # a pending row that reached a linked record through its old key keeps the link
                "sid": row.subject_id if row.subject_id is not None else old.subject_id,
                "db": _database(dataset, row),
                "bid": batch_id,
                "rn": row.row_no,
                "pr": None
                if row.subject_id is not None or old.subject_id is not None
                else PENDING_NO_CODE,
                "ts": now,
            }
            for (row, old), pub in zip(changed, pubs, strict=True)
        ],
    )


_VERSION_COLUMNS = [
    "record_id",
    "version",
    "subject_id",
    "dept_uscc",
    "state",
    "content_hash",
    "data",
    "raw",
    "batch_id",
    "row_no",
    "valid_from",
    "valid_to",
    "superseded_by_batch",
    "change",
]


def archive_versions(
    where: Any, *, ended_at: datetime, batch_id: int | None, change: str
) -> Insert:
    """One INSERT … SELECT that copies the versions in force of the records matching ``where``
    into ``record_versions``, ended at ``ended_at`` by ``batch_id`` (None: not a delivery)
    for ``change`` (更正, 期满停止公示 …); run it before changing those records."""
    return insert(record_versions).from_select(
        _VERSION_COLUMNS,
        select(
            records.c.id,
            records.c.version,
            records.c.subject_id,
            records.c.dept_uscc,
            records.c.state,
            records.c.content_hash,
            records.c.data,
            records.c.raw,
            records.c.batch_id,
            records.c.row_no,
            records.c.updated_at,
            literal(ended_at, records.c.updated_at.type),
            literal(batch_id, records.c.batch_id.type),
            literal(change),
        ).where(where),
    )
