"""Public queries: profiles, a subject's records, 双公示 and 红黑榜 lists, with paging.

Every function takes the acting principal and shows only what ``xinyong.disclosure`` allows;
a government principal's look at non-public data is an audit event (Henan art. 40: a subject
may see who looked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Select,
    and_,
    bindparam,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql.visitors import replacement_traverse

from xinyong import clock
from xinyong.accounts.authorisations import authorised_datasets, require_authorisation
from xinyong.accounts.purposes import purpose_required, read_as
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.queries import record_read
from xinyong.batches.models import batches
from xinyong.catalog.lists import KIND_ITEM, NAME_ITEM
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Disclosure, Item
from xinyong.db import Id, text_position
from xinyong.departments.models import departments as dept_table
from xinyong.disclosure import (
    TABS,
    ShownRecord,
    count_visible,
    present_subject,
    visible_records,
)
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.state_rules import state_rules
from xinyong.disclosure.view import (
    Access,
    _public_text,
    _shown,
    _visible_filter,
    access_to,
    public_sql,
    was_minor,
)
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.lists.desk import exit_notices
from xinyong.measures.catalog import ConflictRule, Measures
from xinyong.measures.conflicts import (
    SUSPENDED_LABEL,
    Current,
    _since,
    reason_text,
    suspended,
)
from xinyong.measures.loaded import configured
from xinyong.records.models import records
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.refs import PERSON

MAX_PAGE_SIZE = 100

# 双公示: the two datasets published within 7 working days of a decision.
PUBLICITY_DATASETS = {"xzxk": "XZXK", "xzcf": "XZCF"}
PUBLICITY_TYPE_ITEM = {"XZXK": "XK_XKLB", "XZCF": "CF_CFLB"}
# 红黑榜
LIST_DATASETS = {"red": ("SXHMD",), "black": ("YZSX", "SXBZX")}


@dataclass(frozen=True)
class Paging:
    page: int = 1
    size: int = 20

    def __post_init__(self) -> None:
        if self.page < 1 or not 1 <= self.size <= MAX_PAGE_SIZE:
            raise XinyongError(
                "PAGING_INVALID", f"页码须从 1 开始，每页条数须在 1 到 {MAX_PAGE_SIZE} 之间"
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


# The hot paths (a subject's profile and records, every answer's "as of") run statements built
# once and bound per call: on SQLite, building and cache-keying a Core statement costs more than
# running it (profile of GET /api/v1/subjects/{id}, bench/query.py).
# The subject with the data's "as of" and its former names in the same statement: two round
# trips less per profile (a row per former name, in the order they were recorded; one row with
# none when it has none).
_SUBJECT_BY_ID = (
    select(
        subjects,
        select(func.max(batches.c.finished_at)).scalar_subquery().label("xy_as_of"),
        subject_names.c.name.label("xy_former"),
    )
    .select_from(
        subjects.outerjoin(
            subject_names,
            and_(subject_names.c.subject_id == subjects.c.id, subject_names.c.kind == "former"),
        )
    )
    .where(subjects.c.id == bindparam("sid"))
    .order_by(subject_names.c.id)
)


@lru_cache(maxsize=256)
def _as_of_statement(datasets: tuple[str, ...]) -> Select[Any]:
    """max(finished_at) over the batches of ``datasets`` (all when empty), as index probes:
    one per dataset on ix_batches_dataset_finished_at (migration 0011), never a scan of
    every batch ever delivered."""
    if not datasets:
        return select(func.max(batches.c.finished_at))
    parts = union_all(
        *(
            select(func.max(batches.c.finished_at).label("finished_at")).where(
                batches.c.dataset == code
            )
            for code in datasets
        )
    ).subquery()
    return select(func.max(parts.c.finished_at))


def _as_of_value(value: datetime | None) -> datetime:
    if value is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def data_as_of(conn: Connection, datasets: tuple[str, ...] | None = None) -> datetime:
    """When the data shown was last changed by a delivery (the "as of" of every answer)."""
    query = _as_of_statement(tuple(sorted(set(datasets))) if datasets else ())
    return _as_of_value(conn.execute(query).scalar())


def _subject_row(
    conn: Connection, subject_id: int
) -> tuple[dict[str, Any], datetime, tuple[str, ...]]:
    """The subject (following merges), ``data_as_of(conn)`` and its former names, read
    together."""
    seen = 0
    while True:
        rows = conn.execute(_SUBJECT_BY_ID, {"sid": subject_id}).all()
        if not rows or seen > 10:
            raise NotFound("SUBJECT_NOT_FOUND", "没有找到该信用主体")
        row = rows[0]
        if row.merged_into is None:
            subject = dict(row._mapping)
            del subject["xy_former"]
            former = tuple(r.xy_former for r in rows if r.xy_former is not None)
            return subject, _as_of_value(subject.pop("xy_as_of")), former
        subject_id, seen = row.merged_into, seen + 1


# Count statements by what they select: (dataset, access) pairs and the day compared with.
_COUNTS: dict[tuple[frozenset[tuple[str, Access]], date], Select[Any] | None] = {}
_COUNTS_MAX = 256


def _counts(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject: dict[str, Any],
    authorised: frozenset[str],
    on: date | None = None,
) -> dict[str, int]:
    """``count_visible``, with its statement reused across requests. The condition is still
    the disclosure engine's (``_visible_filter``), built once per access pattern and day; a
    natural person (the minor rule needs each record) goes through ``count_visible`` itself."""
    as_of = answer_day(conn, on)
    if subject["category"] == PERSON:
        return count_visible(conn, catalog, principal, subject, authorised=authorised, as_of=as_of)
    access = frozenset(
        (code, access_to(principal, dataset, subject, authorised=code in authorised))
        for code, dataset in catalog.datasets.items()
    )
    key = (access, as_of)
    if key in _COUNTS:
        stmt = _COUNTS[key]
    else:
        _, cond = _visible_filter(catalog, principal, subject, None, authorised, as_of)
        stmt = (
            None
            if cond is None
            else select(records.c.dataset, func.count())
            .where(records.c.subject_id == bindparam("sid"), cond)
            .group_by(records.c.dataset)
        )
        if len(_COUNTS) >= _COUNTS_MAX:
            _COUNTS.clear()
        _COUNTS[key] = stmt
    if stmt is None:
        return {}
    return {r[0]: r[1] for r in conn.execute(stmt, {"sid": subject["id"]})}


def viewable_subject(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    purpose: str | None = None,
    *,
    withheld: bool = False,
) -> tuple[dict[str, Any], dict[str, int], frozenset[str], datetime]:
    """The subject, what the principal may see of it per dataset, its authorisations and
    ``data_as_of(conn)``. A natural person with nothing public is 'not found' to the public:
    a person's very presence in the platform is not public information. ``withheld``: the
    principal is a government reader shown the public view for want of a purpose (``read_as``);
    such a person is then ``PURPOSE_REQUIRED``, not 'not found'."""
    subject, counts, authorised, as_of, _ = _viewable(
        conn, catalog, principal, subject_id, purpose, withheld=withheld
    )
    return subject, counts, authorised, as_of


def _viewable(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    purpose: str | None,
    *,
    withheld: bool,
) -> tuple[dict[str, Any], dict[str, int], frozenset[str], datetime, tuple[str, ...]]:
    """``viewable_subject`` and the subject's former names (read with it)."""
    subject, as_of, former = _subject_row(conn, subject_id)
    authorised = authorised_datasets(
        conn, principal, subject["id"], purpose, clock.now(conn), catalog=catalog
    )
    counts = _counts(conn, catalog, principal, subject, authorised)
    if subject["category"] == PERSON and principal.role is Role.PUBLIC and not counts:
        if withheld:
            raise purpose_required()
        raise NotFound("SUBJECT_NOT_FOUND", "没有找到该信用主体")
    return subject, counts, authorised, as_of, former


def _audit_read(
    conn: Connection,
    principal: Principal,
    subject_id: int,
    datasets: list[str],
    purpose: str | None,
) -> None:
    """A read by anyone but the public or the subject itself is recorded (it may include
    政务共享 or 授权查询 data): the subject sees it in its query history (Henan art. 40)."""
    if principal.role is Role.PUBLIC or (
        principal.role is Role.SUBJECT and principal.subject_id == subject_id
    ):
        return
    record_read(
        conn,
        principal,
        subject_id,
        what="subject.read",
        purpose=purpose,
        detail={"datasets": datasets},
    )


def _red_datasets(catalog: Catalog) -> tuple[str, ...]:
    return tuple(c for c, d in catalog.datasets.items() if d.list_kind == "red")


def red_suspensions(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject: dict[str, Any],
    counts: dict[str, int] | None,
    authorised: frozenset[str],
    on: date | None = None,
) -> dict[int, tuple[str, ConflictRule]]:
    """The subject's red-list entries (守信激励) that a conflict rule suspends on ``on``
    (record id → its dataset and the rule), judged as the credit report judges them: from
    the records this principal sees (the lists and the penalties the rules name), never from
    hidden ones.
    Nothing is read when the principal sees no red entry (``counts``; None: not counted, the
    subject is known to have one)."""
    if counts is not None and not any(counts.get(c) for c in _red_datasets(catalog)):
        return {}
    if principal.role is Role.PUBLIC:
        # the public reader's records are the red list's: one read, judged as the list judges
        # its page (one subject here), so that a subject page and the list cannot disagree
        return public_red_suspensions(conn, catalog, [subject], answer_day(conn, on))
    measures = configured()[1]
    wanted = {c for c, d in catalog.datasets.items() if d.list_kind} | {
        measures.severities[r.penalty.severity].dataset
        for r in measures.conflicts
        if r.penalty is not None
    }
    shown = visible_records(
        conn,
        catalog,
        principal,
        subject,
        datasets=sorted(c for c in wanted if counts is None or counts.get(c)),
        authorised=authorised,
        as_of=on,
    )
    current = [
        ((r.id, r.dataset), Current(r.dataset, {i.code: i.value for i in r.items}, r.decision_date))
        for r in shown
    ]
    found = suspended(measures, catalog.lists, current, answer_day(conn, on))
    return {rid: (dataset, rule) for (rid, dataset), rule in found.items()}


@dataclass(frozen=True)
class _RedRead:
    """How ``public_red_suspensions`` reads one category of subjects on one day, built once:
    what the public sees of each dataset, the statement (the subjects' ids bound per call) and
    the items the rules judge by, per dataset."""

    access: dict[str, Access]
    statement: Select[Any] | None
    judged: dict[str, tuple[Item, ...]]


_RED_READS: dict[tuple[int, int, bool, date], tuple[Catalog, Measures, _RedRead]] = {}


def _red_read(catalog: Catalog, measures: Measures, person: bool, on: date) -> _RedRead:
    key = (id(catalog), id(measures), person, on)
    found = _RED_READS.get(key)
    if found is not None and found[0] is catalog and found[1] is measures:
        return found[2]
    listed = {c for c, d in catalog.datasets.items() if d.list_kind}
    windows: dict[str, date] = {}
    items = {KIND_ITEM, NAME_ITEM}
    for rule in measures.conflicts:
        if rule.penalty is not None:
            severity = measures.severities[rule.penalty.severity]
            since = _since(on, rule.penalty.years)
            windows[severity.dataset] = min(since, windows.get(severity.dataset, since))
            items.add(severity.item)
    wanted = sorted(listed | set(windows))
    # what ``access_to`` and ``_visible_filter`` read of a subject: its category (the public
    # reader is never the subject itself)
    like = {"id": None, "category": PERSON if person else ""}
    access, cond = _visible_filter(catalog, Principal.public(""), like, wanted, frozenset(), on)
    statement = None
    if cond is not None:
        # a penalty dataset that is not a list: only the years some rule looks back to
        dated = [
            (records.c.dataset != code) | (records.c.decision_date >= since)
            for code, since in windows.items()
            if code not in listed
        ]
        statement = select(
            records.c.id,
            records.c.subject_id,
            records.c.dataset,
            records.c.data,
            records.c.decision_date,
        ).where(records.c.subject_id.in_(bindparam("sids", expanding=True)), cond, *dated)
    judged = {
        code: tuple(i for i in catalog.dataset(code).items if i.code in items) for code in access
    }
    read = _RedRead(access, statement, judged)
    if len(_RED_READS) >= 64:
        _RED_READS.clear()
    _RED_READS[key] = (catalog, measures, read)
    return read


def public_red_suspensions(
    conn: Connection, catalog: Catalog, shown: list[dict[str, Any]], on: date
) -> dict[int, tuple[str, ConflictRule]]:
    """``red_suspensions`` for the public reader and several subjects (``shown``: their
    ``subjects`` rows), in one read instead of one per subject: the red list judges each of its
    entries as the subject's page does. Same records (the public's visible list and penalty
    records of each subject, minors' left out), same rules, judged per subject; only the
    penalty records older than the earliest window any rule looks back to are not read, and of
    each record only the items the rules judge by are taken (list kind and name, the penalty's
    type), as no rule reads the others."""
    measures = configured()[1]
    by_id = {s["id"]: s for s in shown}
    current: dict[int, list[tuple[tuple[int, str], Current]]] = {i: [] for i in by_id}
    # one statement per category: what the public sees depends on it (persons: PERSON_PUBLIC)
    groups: dict[bool, list[int]] = {}
    for s in by_id.values():
        groups.setdefault(s["category"] == PERSON, []).append(s["id"])
    for person, ids in groups.items():
        read = _red_read(catalog, measures, person, on)
        if read.statement is None:
            continue
        for row in conn.execute(read.statement, {"sids": ids}):
            if read.access[row.dataset] is not Access.PUBLIC:
                raise AssertionError(row.dataset)  # the public reader sees public records only
            subject = by_id[row.subject_id]
            if person and was_minor(subject.get("id_number"), row.decision_date):
                continue  # nothing about a minor is ever public (as visible_records)
            values = {}
            for item in read.judged[row.dataset]:
                value = row.data.get(item.code)
                if value not in (None, ""):
                    text = _public_text(item, value, person)
                    if text is not None:
                        values[item.code] = text
            current[row.subject_id].append(
                ((row.id, row.dataset), Current(row.dataset, values, row.decision_date))
            )
    out: dict[int, tuple[str, ConflictRule]] = {}
    for found in current.values():
        if found:
            for (rid, dataset), rule in suspended(measures, catalog.lists, found, on).items():
                out[rid] = (dataset, rule)
    return out


def _suspension(record_id: int, dataset: str, rule: ConflictRule) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "dataset": dataset,
        "rule": rule.id,
        "reason": rule.reason,
        "basis": rule.basis_text(),
        "text": reason_text(rule),
    }


def _as_shown(record: ShownRecord, paused: tuple[str, ConflictRule] | None) -> dict[str, Any]:
    """A record as public output shows it; a suspended red entry reads 暂停 with the reason
    instead of its stored state, never as current."""
    out = record.as_dict()
    if paused is not None:
        rule = paused[1]
        out["state_label"] = SUSPENDED_LABEL
        out["marked"] = True
        out["public_reason"] = f"守信激励暂停：{reason_text(rule)}"
        out["suspended"] = _suspension(record.id, record.dataset, rule)
    return out


def subject_profile(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    purpose: str | None = None,
    *,
    audit: bool = True,
) -> dict[str, Any]:
    """信用概览: who the subject is and how many records of each tab the principal may see.

    A government reader without a purpose is shown the public view (``read_as``;
    ``purpose_required`` in the answer). ``audit=False``: the caller audits the view once
    itself (the portal's page audits its profile and leaves its record list unaudited)."""
    reader, purpose = read_as(principal, purpose)
    withheld = reader is not principal
    principal = reader
    subject, counts, authorised, as_of, former = _viewable(
        conn, catalog, principal, subject_id, purpose, withheld=withheld
    )
    shown = present_subject(principal, subject, former)
    paused = red_suspensions(conn, catalog, principal, subject, counts, authorised)
    tabs = {
        tab: sum(counts.get(code, 0) for code in codes)
        for tab, codes in TABS.items()
        if any(code in counts for code in codes) or tab != "其他"
    }
    if audit:
        _audit_read(conn, principal, subject["id"], sorted(counts), purpose)
    return {
        "subject": shown.as_dict(),
        "purpose": purpose,
        "purpose_required": withheld,
        "counts": counts,
        "tabs": tabs,
        # 守信激励 entries suspended by a conflict rule: shown as 暂停, never as current
        "suspended": [
            _suspension(rid, dataset, rule) | {"state_label": SUSPENDED_LABEL}
            for rid, (dataset, rule) in sorted(paused.items())
        ],
        # 移出公告 (Henan art. 37) of the subject's list entries, where it was published
        "exit_notices": [
            _plain_notice(n)
            for n in exit_notices(
                conn, catalog, _list_datasets(catalog), subject_id=subject["id"], limit=50
            )
        ],
        "as_of": as_of.isoformat(),
    }


def _list_datasets(catalog: Catalog) -> tuple[str, ...]:
    return tuple(c for c, d in catalog.datasets.items() if d.list_kind)


def _plain_notice(n: dict[str, Any]) -> dict[str, Any]:
    """An exit notice as public output gives it (no category, dates as ISO text)."""
    return {
        "id": n["id"],
        "subject_id": n["subject_id"],
        "subject_name": n["subject_name"],
        "dataset": n["dataset"],
        "dataset_name": n["dataset_name"],
        "served_on": n["served_on"].isoformat(),
        "reasons": n["reasons"],
        "basis": n["basis"],
    }


def subject_records(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    *,
    tab: str | None = None,
    dataset: str | None = None,
    paging: Paging = Paging(),
    purpose: str | None = None,
    audit: bool = True,
) -> dict[str, Any]:
    """One page of a subject's records, by tab or by dataset. A government reader without a
    purpose is shown the public records (``read_as``); naming a dataset that only a purpose
    opens is then ``PURPOSE_REQUIRED``."""
    reader, purpose = read_as(principal, purpose)
    withheld = reader is not principal
    principal = reader
    subject, counts, authorised, _ = viewable_subject(
        conn, catalog, principal, subject_id, purpose, withheld=withheld
    )
    if dataset:
        codes = [catalog.dataset(dataset).code]
        if withheld and access_to(principal, catalog.dataset(codes[0]), subject) is Access.NONE:
            raise purpose_required()
        _refuse_unreadable(conn, catalog, principal, subject, codes[0], purpose)
    elif tab:
        if tab not in TABS:
            raise XinyongError("TAB_UNKNOWN", f"没有名为“{tab}”的栏目")
        codes = list(TABS[tab])
    else:
        codes = list(catalog.datasets)
    page = visible_records(
        conn,
        catalog,
        principal,
        subject,
        datasets=codes,
        authorised=authorised,
        offset=paging.offset,
        limit=paging.size,
    )
    total = sum(counts.get(c, 0) for c in codes)
    paused = (
        red_suspensions(conn, catalog, principal, subject, counts, authorised)
        if any(r.dataset in _red_datasets(catalog) for r in page)
        else {}
    )
    if audit:
        _audit_read(conn, principal, subject["id"], codes, purpose)
    return {
        "subject_id": subject["id"],
        "purpose": purpose,
        "purpose_required": withheld,
        "total": total,
        "page": paging.page,
        "size": paging.size,
        "items": [_as_shown(r, paused.get(r.id)) for r in page],
        "as_of": data_as_of(conn, tuple(codes)).isoformat(),
    }


def _refuse_unreadable(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject: dict[str, Any],
    code: str,
    purpose: str | None,
) -> None:
    """A government reader asking for one dataset by name is told why it sees none of it,
    rather than shown an empty page: a 授权查询 dataset without the subject's authorisation
    for this purpose (``AUTHORISATION_REQUIRED``, an ``access.denied`` event), a dataset the
    catalogue's need-to-know does not open to it (``DATASET_NOT_PERMITTED``)."""
    if not principal.is_government:
        return
    dataset = catalog.dataset(code)
    if dataset.disclosure is Disclosure.AUTHORISED:
        require_authorisation(
            conn, principal, catalog=catalog, subject_id=subject["id"], purpose=purpose,
            datasets=[code],
        )  # fmt: skip
    if access_to(principal, dataset, subject, authorised=True) is Access.NONE:
        raise NotAllowed(
            "DATASET_NOT_PERMITTED",
            f"按需知悉：本单位无权查看“{dataset.name}”（{dataset.code}），"
            "该数据集只向目录规定的部门开放",
        )


def type_label(catalog: Catalog, dataset: str, value: str) -> str:
    """The label of the 许可类别 / 处罚类别 option ``value`` names, by code, label or alias.

    A public filter is only ever a choice among the item's enumerated options, never free text:
    free text matched over a stored record reached its hidden items (issue 11: a masked ID
    number was rebuilt digit by digit through a substring filter)."""
    item = catalog.dataset(dataset).item(PUBLICITY_TYPE_ITEM[dataset])
    wanted = value.strip()
    for option in item.enum:
        if wanted in (option.code, option.label, *option.aliases):
            return option.label
    choices = "；".join(f"{o.code} {o.label}" for o in item.enum)
    raise XinyongError("TYPE_INVALID", f"没有该{item.name}，可选：{choices}")


def _type_condition(catalog: Catalog, codes: tuple[str, ...], value: str) -> Any:
    """Records whose public type item holds the option: equality on that one item (a
    multi-valued item is stored as labels joined by ';', so the label is matched between
    separators), never a match over the whole record."""
    if len(codes) != 1 or codes[0] not in PUBLICITY_TYPE_ITEM:
        raise XinyongError("TYPE_INVALID", "该名单不能按类别筛选")
    code = codes[0]
    label = type_label(catalog, code, value)
    item = catalog.dataset(code).item(PUBLICITY_TYPE_ITEM[code])
    stored = records.c.data[item.code].as_string()
    if not item.multiple:
        return stored == label
    wrapped = literal(";") + func.coalesce(stored, "") + literal(";")
    return text_position(wrapped, literal(f";{label};")) > 0


# A list page counts what matches up to this many rows and says "more than" beyond: an exact
# count of a dataset of millions costs more than the page itself (issue 13: 1.6-10 s a page).
# Only the first page of a whole list is counted so: with a filter (department, dates, type)
# the count read up to this many matching rows past what the index holds, each a row and a
# subject read (p99 7 s at 5M records under 16 clients); a filtered first page is counted only
# when it holds the whole answer, which costs nothing.
COUNT_CAP = 1000
_CURSOR = re.compile(r"^(?:(\d{8})|-)\.(\d{1,19})$")


@dataclass(frozen=True)
class Cursor:
    """A position in a list's order (decision date newest first, no date last, then id
    descending): the last row of a page for the next one, its first row for the previous.
    Written as ``20260302.1234`` (``-.1234`` for a record without a decision date)."""

    decision_date: date | None
    id: int

    def __str__(self) -> str:
        day = self.decision_date.strftime("%Y%m%d") if self.decision_date else "-"
        return f"{day}.{self.id}"

    @classmethod
    def parse(cls, value: str) -> Cursor:
        m = _CURSOR.match(value.strip())
        try:
            if m is None:
                raise ValueError(value)
            day = datetime.strptime(m.group(1), "%Y%m%d").date() if m.group(1) else None
            return cls(day, int(m.group(2)))
        except ValueError:
            raise XinyongError("CURSOR_INVALID", "翻页参数无效，请从第一页重新浏览") from None


@dataclass(frozen=True)
class ListPaging:
    """Keyset paging of a public list: the page after ``after`` or before ``before`` (the
    first page when neither). Never an offset: a deep page costs what the first one does."""

    size: int = 20
    after: str | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise XinyongError("PAGING_INVALID", f"每页条数须在 1 到 {MAX_PAGE_SIZE} 之间")
        if self.after and self.before:
            raise XinyongError("PAGING_INVALID", "after 与 before 只能给出一个")

    def cursor(self) -> tuple[Cursor | None, bool]:
        """The cursor and whether the page runs backwards (before it)."""
        if self.before:
            return Cursor.parse(self.before), True
        return (Cursor.parse(self.after) if self.after else None), False


def _key_branches(
    public: Any, conds: list[Any], cursor: str | None, backwards: bool, n: int, dated_only: bool
) -> list[Select[Any]]:
    """The rows of one (dataset, state) (``public``: its ``public_sql``) next to the cursor, as
    index range scans on ix_records_dataset_state_decision_date_id (or, filtered by department,
    ix_records_dataset_state_dept_uscc_decision_date_id): one branch for dated rows and one for
    rows without a date (they sort last), each ordered as the index is and limited to ``n``.
    ``cursor`` is the kind of cursor ("dated", "undated" or None); its values are bound as
    ``c_date`` and ``c_id``. ``dated_only``: a filter on the decision date, which no record
    without one meets; its branch would still be a scan of every date in the filter's range
    (SQLite took the range for the index and tested IS NULL on each: 68-133 ms at 5M records)."""
    date_col, id_col = records.c.decision_date, records.c.id
    base = [public, *conds]
    dated: list[Any] = [date_col.is_not(None)]
    undated: list[Any] = [date_col.is_(None)]
    take_dated, take_undated = True, not dated_only
    c_date, c_id = bindparam("c_date", type_=Date()), bindparam("c_id", type_=Id)
    if cursor == "dated":
        key, mark = tuple_(date_col, id_col), tuple_(c_date, c_id)
        dated.append(key > mark if backwards else key < mark)
        take_undated = take_undated and not backwards  # undated rows come after dated ones
    elif cursor == "undated":
        undated.append(id_col > c_id if backwards else id_col < c_id)
        take_dated = backwards  # every dated row comes before an undated one
    # Both branches ordered by the index's own columns: ordered by id alone, PostgreSQL chose
    # to walk the primary key backwards past every dated record to find the (few) undated ones
    # (7 s at 1.5M records); by (decision_date, id) it is a range scan of the index.
    if backwards:
        dated_order = undated_order = (date_col.asc(), id_col.asc())
    else:
        dated_order = undated_order = (date_col.desc(), id_col.desc())
    joined = records.join(subjects, subjects.c.id == records.c.subject_id)
    parts = []
    for wanted, where, order in (
        (take_dated, dated, dated_order),
        (take_undated, undated, undated_order),
    ):
        if wanted:
            sub = (
                select(id_col.label("id"), date_col.label("decision_date"))
                .select_from(joined)
                .where(*base, *where)
                .order_by(*order)
                .limit(n)
                .subquery()
            )
            parts.append(select(sub.c.id, sub.c.decision_date))
    return parts


def _page_statement(
    publics: list[Any],
    conds: list[Any],
    cursor: str | None,
    backwards: bool,
    n: int,
    dated_only: bool,
) -> Select[Any] | None:
    """Up to ``n`` positions next to the cursor, in page order: the union of every branch
    (each at most ``n`` rows) sorted once, so no scan reads past what one page needs."""
    branches = [
        b for p in publics for b in _key_branches(p, conds, cursor, backwards, n, dated_only)
    ]
    if not branches:
        return None
    union = union_all(*branches).subquery()
    if backwards:
        order = (union.c.decision_date.asc().nulls_first(), union.c.id.asc())
    else:
        order = (union.c.decision_date.desc().nulls_last(), union.c.id.desc())
    return select(union.c.id, union.c.decision_date).order_by(*order).limit(n)


def _as_date(value: Any) -> date | None:
    # SQLite hands a date back as text when it comes through a UNION of subqueries
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _count_statement(publics: list[Any], conds: list[Any]) -> Select[Any] | None:
    """How many rows match, counted up to ``COUNT_CAP + 1``: per (dataset, state), as the
    pages read them (the same index ranges, in the same order, each stopping at the cap).

    Of the subject, the count reads only what the condition needs (a person or not, for the
    datasets that never publish persons), as a correlated lookup of that one row, not a join:
    a dataset that publishes persons reads no subject at all (``records.subject_id`` is a
    foreign key, so a linked record's subject exists), and a join let PostgreSQL choose a
    merge join that walked the subjects' primary key past thousands of rows, or a parallel
    plan whose workers cost more to start than the count (6-40 ms for the 红黑榜's first page
    at 1M records, against 0.6-3 ms as index range + one lookup per row)."""
    branches = [
        select(records.c.id)
        .where(_subject_lookups(and_(p, *conds)))
        .order_by(records.c.decision_date.desc(), records.c.id.desc())
        .limit(COUNT_CAP + 1)
        for p in publics
    ]
    if not branches:
        return None
    inner = union_all(*[b.subquery().select() for b in branches]).subquery()
    capped = select(inner.c.id).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(capped)


def _subject_lookups(condition: Any) -> Any:
    """``condition`` (on ``records`` joined with ``subjects``) on ``records`` alone: each
    ``subjects`` column it reads becomes the scalar subquery of that column of the record's
    subject (NULL when there is none, so the condition fails as the inner join did)."""

    def swap(element: Any, **_kw: Any) -> Any:
        if isinstance(element, Column) and element.table is subjects:
            return select(element).where(subjects.c.id == records.c.subject_id).scalar_subquery()
        return None

    return replacement_traverse(condition, {}, swap)


# A page's rows: what ``_shown`` and the page show of each record (not the delivered ``raw``
# cells, a second JSON document per row parsed for nothing), the subject's shown columns and
# the department's name in the same statement (``departments.names`` read every department
# per page).
_LIST_RECORD = (
    records.c.id,
    records.c.dataset,
    records.c.dept_uscc,
    records.c.state,
    records.c.data,
    records.c.decision_date,
    records.c.updated_at,
    records.c.publicity_min_end,
    records.c.publicity_max_end,
)
_LIST_SUBJECT = (
    subjects.c.id,
    subjects.c.category,
    subjects.c.database,
    subjects.c.name,
    subjects.c.uscc,
    subjects.c.org_code,
    subjects.c.reg_no,
    subjects.c.id_number,
    subjects.c.status,
)
_SUBJECT_KEYS = tuple(c.name for c in _LIST_SUBJECT)
_SUBJECT_AT = len(_LIST_RECORD) + 1  # where the subject's columns start in a row
_SUBJECT_END = _SUBJECT_AT + len(_LIST_SUBJECT)


def _rows_statement(
    positions: Select[Any], backwards: bool, as_of: Select[Any], total: Select[Any] | None
) -> Select[Any]:
    """The page's rows in page order, read with its positions (``positions``: the page
    statement) in one statement, not a second one by their ids: what ``_shown`` and the page
    show of each record (not the delivered ``raw`` cells, a second JSON document per row
    parsed for nothing), the subject's shown columns, the department's name
    (``departments.names`` read every department per page), the data's "as of" and, on a
    counted page, the capped count (``total``), each of the last two once per statement.
    On PostgreSQL every statement is a round trip to another process: a list page was five
    (BEGIN, positions, rows, as of, COMMIT) and a counted first page six."""
    page = positions.subquery("xy_page")
    extra = [as_of.scalar_subquery().label("xy_as_of")]
    if total is not None:
        extra.append(total.scalar_subquery().label("xy_total"))
    if backwards:
        order = (records.c.decision_date.asc().nulls_first(), records.c.id.asc())
    else:
        order = (records.c.decision_date.desc().nulls_last(), records.c.id.desc())
    return (
        select(
            *_LIST_RECORD,
            dept_table.c.name.label("d_name"),
            *[c.label(f"s_{c.name}") for c in _LIST_SUBJECT],
            *extra,
        )
        .select_from(
            page.join(records, records.c.id == page.c.id)
            .join(subjects, subjects.c.id == records.c.subject_id)
            .outerjoin(dept_table, dept_table.c.uscc == records.c.dept_uscc)
        )
        .order_by(*order)
    )


@dataclass(frozen=True)
class _Shape:
    """What a list statement is built from; the values (department, dates, cursor) are bound
    per request, so each shape is built once and reused (on SQLite, building and cache-keying
    a union of a dozen branches cost more than running it)."""

    codes: tuple[str, ...]
    on: date
    dept: bool
    date_from: bool
    date_to: bool
    type_label: str | None
    cursor: str | None  # "dated", "undated" or None
    backwards: bool
    size: int
    count_cap: int
    counted: bool  # a first page of a whole list, counted (capped) with its rows


_SHAPES: dict[_Shape, Select[Any] | None] = {}
_SHAPES_MAX = 512


def _statements(catalog: Catalog, shape: _Shape) -> Select[Any] | None:
    """The statement of a shape's page (its rows, the "as of", the capped count when
    ``counted``); None when nothing is public."""
    found = _SHAPES.get(shape)
    if found is not None:
        return found
    codes = shape.codes
    conds: list[Any] = [records.c.subject_id.is_not(None)]
    if shape.dept:
        conds.append(records.c.dept_uscc == bindparam("dept"))
    if shape.date_from:
        conds.append(records.c.decision_date >= bindparam("date_from", type_=Date()))
    if shape.date_to:
        conds.append(records.c.decision_date <= bindparam("date_to", type_=Date()))
    if shape.type_label is not None:
        conds.append(_type_condition(catalog, codes, shape.type_label))
    # one (dataset, public state) per branch; a dataset the public never sees has none
    public_states = sorted(state_rules(catalog.root).public_states)
    publics = [
        public_sql(catalog, (code,), shape.on, states=(state,))
        for code in codes
        if catalog.dataset(code).disclosure is Disclosure.PUBLIC
        for state in public_states
    ]
    positions = _page_statement(
        publics,
        conds,
        shape.cursor,
        shape.backwards,
        shape.size + 1,
        shape.date_from or shape.date_to,
    )
    built = (
        None
        if positions is None
        else _rows_statement(
            positions,
            shape.backwards,
            _as_of_statement(tuple(sorted(set(codes)))),
            _count_statement(publics, conds) if shape.counted else None,
        )
    )
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()
    _SHAPES[shape] = built
    return built


def _listing(
    conn: Connection,
    catalog: Catalog,
    codes: tuple[str, ...],
    *,
    dept: str | None,
    date_from: date | None,
    date_to: date | None,
    type_: str | None,
    paging: ListPaging,
    as_of: date | None,
    count: bool = True,
) -> dict[str, Any]:
    """A public, cross-subject list of the records in force on ``as_of`` (today by the
    connection's clock by default), one keyset page at a time. No principal needed: the
    disclosure engine's public gate (``public_sql``) is what anyone may see, by construction.

    The answer has ``next`` / ``prev`` cursors (None at either end) and ``total``: on a first
    page that holds the whole answer, its number of rows; on the first page of an unfiltered
    list (and ``count``), a count capped at ``COUNT_CAP`` (``total_capped`` says when there are
    more); None otherwise (a filtered answer longer than a page, the pages after the first)."""
    if date_from and date_to and date_from > date_to:
        raise XinyongError("DATE_RANGE_INVALID", "起始日期不能晚于截止日期")
    cursor, backwards = paging.cursor()
    on = answer_day(conn, as_of)
    # the type filter is one of the item's options, by its label: part of the shape
    label = None
    if type_:
        if len(codes) != 1 or codes[0] not in PUBLICITY_TYPE_ITEM:
            raise XinyongError("TYPE_INVALID", "该名单不能按类别筛选")
        label = type_label(catalog, codes[0], type_)
    # counted on the first page only: a reader walking on by cursor has seen the count; a first
    # page without a page after it is the whole answer, counted by its rows
    filtered = bool(dept or date_from or date_to or label)
    shape = _Shape(
        codes=codes,
        on=on,
        dept=bool(dept),
        date_from=date_from is not None,
        date_to=date_to is not None,
        type_label=label,
        cursor=None if cursor is None else "dated" if cursor.decision_date else "undated",
        backwards=backwards,
        size=paging.size,
        count_cap=COUNT_CAP,
        counted=cursor is None and count and not filtered,
    )
    statement = _statements(catalog, shape)
    values: dict[str, Any] = {
        "dept": dept.strip().upper() if dept else None,
        "date_from": date_from,
        "date_to": date_to,
        "c_date": cursor.decision_date if cursor else None,
        "c_id": cursor.id if cursor else None,
    }
    values = {k: v for k, v in values.items() if v is not None}
    rows = conn.execute(statement, values).all() if statement is not None else []
    # one row more than the page: whether there is a page beyond it, without counting
    found = [Cursor(_as_date(r.decision_date), r.id) for r in rows]
    if backwards:
        found.reverse()
    more = len(found) > paging.size
    if more:
        found = found[1:] if backwards else found[:-1]
    rows_by_id = {row.id: row for row in rows}
    total: int | None = None
    if cursor is None and not more:
        total = len(found)
    elif shape.counted:
        total = int(rows[0].xy_total)
    public = Principal.public("")
    items = []
    # every department's name by its code (as ``departments.names``), for those on the page
    dept_names = {r.dept_uscc: r.d_name for r in rows_by_id.values() if r.d_name is not None}
    rules = state_rules(catalog.root)
    page: list[tuple[Any, dict[str, Any]]] = []
    for position in found:
        row = rows_by_id[position.id]
        subject = dict(zip(_SUBJECT_KEYS, row[_SUBJECT_AT:_SUBJECT_END], strict=True))
        if subject["category"] == PERSON and was_minor(subject["id_number"], row.decision_date):
            continue  # nothing about a minor is ever public (plan 八(四))
        page.append((row, subject))
    # the red list shows an entry a conflict rule suspends as 暂停, as the subject's page: the
    # page's red entries judged in one read for all their subjects
    red = [s for row, s in page if catalog.dataset(row.dataset).list_kind == "red"]
    paused = public_red_suspensions(conn, catalog, red, on) if red else {}
    for row, subject in page:
        shown: ShownRecord = _shown(
            rules, dept_names, catalog.dataset(row.dataset), row, Access.PUBLIC, subject, on
        )
        items.append(
            {
                **_as_shown(shown, paused.get(row.id)),
                "subject": present_subject(public, subject).as_dict(),
            }
        )
    # the ends: forwards, a next page exists when a row beyond was found and a previous one
    # whenever we came from a cursor; backwards the other way round
    has_next = more if not backwards else True
    has_prev = (cursor is not None) if not backwards else more
    return {
        "total": None if total is None else min(total, COUNT_CAP),
        "total_capped": total is not None and total > COUNT_CAP,
        "size": paging.size,
        "items": items,
        "next": str(found[-1]) if found and has_next else None,
        "prev": str(found[0]) if found and has_prev else None,
        "as_of": (_as_of_value(rows[0].xy_as_of) if rows else data_as_of(conn, codes)).isoformat(),
    }


def publicity_list(
    conn: Connection,
    catalog: Catalog,
    kind: str,
    *,
    dept: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    type_: str | None = None,
    paging: ListPaging = ListPaging(),
    as_of: date | None = None,
    count: bool = True,
) -> dict[str, Any]:
    """双公示: 行政许可 (xzxk) or 行政处罚 (xzcf) decisions in force on ``as_of`` (today);
    ``count=False``: no capped count (the home page shows the newest rows only)."""
    code = PUBLICITY_DATASETS.get(kind)
    if code is None:
        raise NotFound("LIST_NOT_FOUND", "没有该公示栏目")
    return _listing(
        conn,
        catalog,
        (code,),
        dept=dept,
        date_from=date_from,
        date_to=date_to,
        type_=type_,
        paging=paging,
        as_of=as_of,
        count=count,
    )


def red_black_list(
    conn: Connection,
    catalog: Catalog,
    kind: str,
    *,
    dept: str | None = None,
    paging: ListPaging = ListPaging(),
    as_of: date | None = None,
    count: bool = True,
) -> dict[str, Any]:
    """红黑榜: the red list (守信红名单) or the black lists (严重失信主体名单, 失信被执行人), the
    entries in force on ``as_of`` (today); natural persons only where the rules publish them.
    ``count`` as for ``publicity_list``."""
    codes = LIST_DATASETS.get(kind)
    if codes is None:
        raise NotFound("LIST_NOT_FOUND", "没有该名单")
    found = _listing(
        conn,
        catalog,
        codes,
        dept=dept,
        date_from=None,
        date_to=None,
        type_=None,
        paging=paging,
        as_of=as_of,
        count=count,
    )
    # art. 37: the exit notice is published where the listing was
    found["exit_notices"] = [_plain_notice(n) for n in exit_notices(conn, catalog, codes)]
    return found
