"""Who may see which record, and how it is shown (Henan arts. 18, 22–25; PIPL; plan 八(四)).

The rules, in one place:

- a dataset's 共享属性 decides the audience: 公开公示 → anyone; 政务共享 → government roles;
  授权查询 → government roles holding the subject's written authorisation for the purpose;
- need-to-know (按需知悉): a non-public dataset's ``readers`` in the catalogue narrow the
  government audience to some roles and departments (公职人员诚信档案: the 组织人事
  departments and auditors); every other government account sees none of it;
- a subject always sees everything about itself (its right of access);
- a natural person's records are public only in the datasets the law publishes with persons
  on them (``PERSON_PUBLIC_DATASETS``), and never when the person was a minor on the decision
  date; their ID number is then shown as first 6 + last 4;
- the public sees records while they are in force (``in_force``: in a state the catalogue makes
  public — 公示中, and 异议中 with its 异议处理中 mark by default, ``state_rules`` —
  and not past their last day of publicity, ``publicity_max_end``, catalogue rule sets: the day
  after it they leave public view even before `xinyong daily` archives them); records whose
  publicity ended
  (期满, 已修复) or that were withdrawn stay archived and are shown only to government roles
  and to the subject itself, with the reason (``reason`` in ``catalog/disclosure/states.yaml``);
- lists across subjects (双公示, 红黑榜) apply the same rules through ``public_sql``: one gate
  for every public output;
- items flagged ``mask`` in the catalogue (phones, addresses, representatives' ID numbers)
  are masked for everyone but government roles and the subject itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset, Disclosure, Item, ItemType
from xinyong.departments import service as departments
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.in_force import effective_state, in_force_sql
from xinyong.disclosure.publicity import LONG_TERM
from xinyong.disclosure.state_rules import StateRules, state_rules
from xinyong.records.models import records
from xinyong.subjects.models import subjects
from xinyong.subjects.refs import PERSON

# Datasets that the law publishes with natural persons on them (最高法《关于公布失信被执行人
# 名单信息的若干规定》第六条: name, gender, age, masked ID number).
PERSON_PUBLIC_DATASETS: frozenset[str] = frozenset({"SXBZX"})

# Tabs of the subject page and the report, and the datasets each shows (issue 4 item 3).
TABS: dict[str, tuple[str, ...]] = {
    "基础信息": ("FRJC",),
    "行政许可": ("XZXK",),
    "行政处罚": ("XZCF",),
    "守信激励": ("SXHMD", "BZRY", "NSXY"),
    "失信惩戒": ("SXBZX", "YZSX", "JYYC", "ZDGZ"),
    "信用承诺": ("XYCN",),
    "其他": ("GZRY", "NSDJ"),
}

# How each state shows (label, public or not, the 异议处理中 mark, why archived) and whether it
# triggers measures is catalogue data: ``catalog/disclosure/states.yaml`` (``state_rules``).
# Labels of the publicity dates on pages and reports.
MAX_END_LABEL = "公示截止"
MIN_END_LABEL = "可申请信用修复日期"
LONG_TERM_LABEL = "长期"


class Access(StrEnum):
    """How much of a dataset about one subject a principal may see."""

    FULL = "full"  # every state, unmasked: government roles, the subject itself
    PUBLIC = "public"  # published records, masked
    NONE = "none"


def mask_id_number(value: str | None) -> str | None:
    """``410928199001010012`` → ``410928********0012``; short values are hidden entirely."""
    if not value:
        return value
    if len(value) < 11:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _mask(item: Item, value: str) -> str:
    if item.type is ItemType.ID_NUMBER:
        return mask_id_number(value) or ""
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def birth_date(id_number: str | None) -> date | None:
    if not id_number or len(id_number) != 18 or not id_number[6:14].isdigit():
        return None
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def was_minor(id_number: str | None, on: date | None) -> bool:
    """True when the person was under 18 on ``on`` (derived from the ID number's birth date)."""
    born = birth_date(id_number)
    if born is None or on is None:
        return False
    try:
        adult = born.replace(year=born.year + 18)
    except ValueError:  # born on 29 February
        adult = date(born.year + 18, 3, 1)
    return on < adult


def _is_self(principal: Principal, subject_id: int) -> bool:
    return principal.role is Role.SUBJECT and principal.subject_id == subject_id


def access_to(
    principal: Principal, dataset: Dataset, subject: dict[str, Any], *, authorised: bool = False
) -> Access:
    """The access ``principal`` has to ``dataset`` about ``subject`` (a ``subjects`` row).

    ``authorised``: the caller found a stored, unexpired authorisation of the subject for this
    requester and purpose (only meaningful for 授权查询 datasets).
    """
    if _is_self(principal, subject["id"]):
        return Access.FULL
    if principal.is_government:
        if dataset.disclosure is Disclosure.AUTHORISED and not authorised:
            return Access.NONE
        if dataset.readers is not None and not dataset.readers.admit(
            principal.role.value, principal.dept_uscc
        ):
            return Access.NONE
        return Access.FULL
    if dataset.disclosure is not Disclosure.PUBLIC:
        return Access.NONE
    if subject["category"] == PERSON and dataset.code not in PERSON_PUBLIC_DATASETS:
        return Access.NONE
    return Access.PUBLIC


class ShownItem(NamedTuple):
    """One item of a shown record. A named tuple, not a frozen dataclass: a list page builds
    hundreds of them, and a frozen dataclass's ``__init__`` (``object.__setattr__`` per field)
    cost more than reading the values (issue 13)."""

    code: str
    name: str
    value: str


@dataclass(frozen=True)
class ShownRecord:
    """A record as one principal may see it."""

    id: int
    dataset: str
    dataset_name: str
    dept_uscc: str
    dept_name: str
    state: str
    state_label: str
    decision_date: date | None
    as_of: datetime
    items: tuple[ShownItem, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    # 公示期限 (catalogue rule sets): the day repair may be applied for, the last day shown
    publicity_min_end: date | None = None
    publicity_max_end: date | None = None
    # why the record is not (or no longer) public: 公示期满，已停止公示 …
    public_reason: str | None = None
    # public output flags the record with its state label (异议处理中), catalogue ``marked``
    marked: bool = False

    @property
    def long_term(self) -> bool:
        return self.publicity_max_end == LONG_TERM

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "dataset_name": self.dataset_name,
            "dept_uscc": self.dept_uscc,
            "dept_name": self.dept_name,
            "state": self.state,
            "state_label": self.state_label,
            "decision_date": self.decision_date.isoformat() if self.decision_date else None,
            "as_of": self.as_of.isoformat(),
            "items": [{"code": i.code, "name": i.name, "value": i.value} for i in self.items],
            "publicity_min_end": _iso(self.publicity_min_end),
            "publicity_max_end": _iso(self.publicity_max_end),
            "publicity_long_term": self.long_term,
            "public_reason": self.public_reason,
            "marked": self.marked,
            **self.extra,
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class ShownSubject:
    id: int
    name: str
    category: str
    database: str
    uscc: str | None
    org_code: str | None
    reg_no: str | None
    id_number: str | None  # masked unless the viewer may see it whole
    status: str | None
    former_names: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "database": self.database,
            "uscc": self.uscc,
            "org_code": self.org_code,
            "reg_no": self.reg_no,
            "id_number": self.id_number,
            "status": self.status,
            "former_names": list(self.former_names),
        }


def present_subject(
    principal: Principal, subject: dict[str, Any], former_names: tuple[str, ...] = ()
) -> ShownSubject:
    full = principal.is_government or _is_self(principal, subject["id"])
    id_number = subject.get("id_number")
    return ShownSubject(
        id=subject["id"],
        name=subject["name"],
        category=subject["category"],
        database=subject["database"],
        uscc=subject.get("uscc"),
        org_code=subject.get("org_code"),
        reg_no=subject.get("reg_no"),
        id_number=id_number if full else mask_id_number(id_number),
        status=subject.get("status"),
        former_names=former_names,
    )


# What ``_shown`` shows of each item of a dataset, by access (public or full) and whether the
# subject is a person: built once per catalogue dataset, as the rules of ``_public_text`` give
# them (looping over the catalogue's items and testing each rule per row was half of a list
# page's Python, issue 13). The dataset object is kept beside its plans: an entry is used only
# for that very object, never for another catalogue that reused its id.
_Plan = tuple[tuple[str, str, bool], ...]
_PLANS: dict[tuple[int, bool, bool], tuple[Dataset, _Plan]] = {}


def _plan(dataset: Dataset, public: bool, person: bool) -> _Plan:
    """(item code, name, masked) of the items shown, in the catalogue's order; an item the
    public never sees is left out (``_public_text`` None)."""
    key = (id(dataset), public, person)
    found = _PLANS.get(key)
    if found is not None and found[0] is dataset:
        return found[1]
    plan: list[tuple[str, str, bool]] = []
    for item in dataset.items:
        hidden = public and (item.mask or (person and item.type is ItemType.ID_NUMBER))
        if hidden and item.type is not ItemType.ID_NUMBER:
            continue  # a phone or an address is never public, not even masked
        plan.append((item.code, item.name, bool(hidden)))
    if len(_PLANS) > 4096:
        _PLANS.clear()
    _PLANS[key] = (dataset, tuple(plan))
    return _PLANS[key][1]


def _shown(
    rules: StateRules,
    dept_names: dict[str, str],
    dataset: Dataset,
    row: Any,
    access: Access,
    subject: dict[str, Any],
    on: date,
) -> ShownRecord:
    """The record as ``access`` shows it, its state as it reads on ``on`` (``effective_state``)."""
    data: dict[str, Any] = row.data
    items: list[ShownItem] = []
    plan = _plan(dataset, access is Access.PUBLIC, subject["category"] == PERSON)
    for code, name, masked in plan:
        value = data.get(code)
        if value is None or value == "":
            continue
        text = "；".join(value) if isinstance(value, list) else str(value)
        items.append(ShownItem(code, name, (mask_id_number(text) or "") if masked else text))
    state = effective_state(row.state, row.publicity_max_end, on)
    return ShownRecord(
        id=row.id,
        dataset=dataset.code,
        dataset_name=dataset.name,
        dept_uscc=row.dept_uscc,
        dept_name=dept_names.get(row.dept_uscc, row.dept_uscc),
        state=state,
        state_label=rules.label(state),
        decision_date=row.decision_date,
        as_of=row.updated_at,
        items=tuple(items),
        publicity_min_end=row.publicity_min_end,
        publicity_max_end=row.publicity_max_end,
        public_reason=rules.reasons.get(state),
        marked=state in rules.marked_states,
    )


def _visible_filter(
    catalog: Catalog,
    principal: Principal,
    subject: dict[str, Any],
    datasets: list[str] | None,
    authorised: frozenset[str],
    as_of: date,
) -> tuple[dict[str, Access], Any]:
    """The datasets the principal may see and the SQL condition that selects their records."""
    access: dict[str, Access] = {}
    for code in datasets if datasets is not None else list(catalog.datasets):
        dataset = catalog.dataset(code)
        level = access_to(principal, dataset, subject, authorised=code in authorised)
        if level is not Access.NONE:
            access[code] = level
    conds: list[Any] = []
    public = [c for c, a in access.items() if a is Access.PUBLIC]
    full = [c for c, a in access.items() if a is Access.FULL]
    if full:
        conds.append(records.c.dataset.in_(full))
    if public:
        # past its end, a record leaves public view even before the daily run
        counted = state_rules(catalog.root).public_states
        conds.append(and_(records.c.dataset.in_(public), in_force_sql(as_of, counted=counted)))
    cond: Any = conds[0] if len(conds) == 1 else (conds[0] | conds[1]) if conds else None
    return access, cond


def visible_records(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject: dict[str, Any],
    *,
    datasets: list[str] | None = None,
    authorised: frozenset[str] = frozenset(),
    offset: int = 0,
    limit: int | None = None,
    as_of: date | None = None,
) -> list[ShownRecord]:
    """The records about ``subject`` that ``principal`` may see, newest decision first.

    ``as_of``: the day publicity ends are compared with (today in Beijing by the connection's
    clock by default)."""
    on = answer_day(conn, as_of)
    access, cond = _visible_filter(catalog, principal, subject, datasets, authorised, on)
    if cond is None:
        return []
    query = (
        select(records)
        .where(records.c.subject_id == subject["id"], cond)
        .order_by(records.c.decision_date.desc().nulls_last(), records.c.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    shown = []
    rules = state_rules(catalog.root)
    dept_names: dict[str, str] | None = None  # read with the first record, not for none
    for row in conn.execute(query):
        level = access[row.dataset]
        if (
            level is Access.PUBLIC
            and subject["category"] == PERSON
            and was_minor(subject.get("id_number"), row.decision_date)
        ):
            continue  # nothing about a minor is ever public (plan 八(四))
        if dept_names is None:
            dept_names = departments.names(conn)
        shown.append(
            _shown(rules, dept_names, catalog.dataset(row.dataset), row, level, subject, on)
        )
    return shown


def count_visible(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject: dict[str, Any],
    *,
    authorised: frozenset[str] = frozenset(),
    as_of: date | None = None,
) -> dict[str, int]:
    """How many records of each dataset ``principal`` may see about ``subject``."""
    as_of = answer_day(conn, as_of)
    access, cond = _visible_filter(catalog, principal, subject, None, authorised, as_of)
    if cond is None:
        return {}
    if subject["category"] == PERSON and any(a is Access.PUBLIC for a in access.values()):
        # the minor rule needs each record's date: count what visible_records would show
        counts: dict[str, int] = {}
        for r in visible_records(
            conn, catalog, principal, subject, authorised=authorised, as_of=as_of
        ):
            counts[r.dataset] = counts.get(r.dataset, 0) + 1
        return counts
    rows = conn.execute(
        select(records.c.dataset, func.count())
        .where(records.c.subject_id == subject["id"], cond)
        .group_by(records.c.dataset)
    )
    return {r[0]: r[1] for r in rows}


def public_sql(
    catalog: Catalog,
    codes: tuple[str, ...],
    on: date,
    *,
    states: tuple[str, ...] | None = None,
) -> ColumnElement[bool]:
    """What anyone may see of ``codes`` across subjects on ``on`` (双公示, 红黑榜, open lists), as
    a condition on ``records`` joined with ``subjects``: the rules of ``access_to`` for the
    public (公开公示 datasets only; natural persons only in ``PERSON_PUBLIC_DATASETS``) and
    ``in_force``. The minor rule needs each record's date against the ID number and is applied
    to the rows by ``was_minor``, as ``visible_records`` does.

    ``states``: only the records in these of the public states (a list page reads one dataset
    and one state per index range; given as one code and one state, the condition is plain
    equalities, so that PostgreSQL does not count the dataset's and the state's selectivity
    twice beside the branch's own and misjudge how far the range must be read)."""
    public_states = state_rules(catalog.root).public_states
    counted = public_states if states is None else public_states & frozenset(states)
    public = [c for c in codes if catalog.dataset(c).disclosure is Disclosure.PUBLIC]
    with_persons = [c for c in public if c in PERSON_PUBLIC_DATASETS]
    without = [c for c in public if c not in PERSON_PUBLIC_DATASETS]
    parts: list[ColumnElement[bool]] = []
    if with_persons:
        parts.append(records.c.dataset.in_(with_persons))
    if without:
        parts.append(and_(records.c.dataset.in_(without), subjects.c.category != PERSON))
    if not parts or not counted:
        return false()
    return and_(or_(*parts), in_force_sql(on, counted=counted))


def shared_datasets(catalog: Catalog) -> tuple[str, ...]:
    """The datasets whose records may leave the platform for another government platform (the
    province, the nation: Henan art. 13): 公开公示 and 政务共享. A 授权查询 dataset never
    enters a feed meant for others: its records are seen only with the subject's written
    authorisation for one requester and purpose (Henan art. 18), which no feed carries."""
    return tuple(
        code for code, ds in catalog.datasets.items() if ds.disclosure is not Disclosure.AUTHORISED
    )


def public_values(dataset: Dataset, data: dict[str, Any], *, person: bool) -> dict[str, str]:
    """A record's items as anyone may read them (bulk open data): the item codes and texts that
    ``visible_records`` shows the public, masked and left out the same way (``_public_text``).
    The caller selects the rows with ``public_sql`` and drops minors with ``was_minor``."""
    shown: dict[str, str] = {}
    for item in dataset.items:
        value = data.get(item.code)
        if value in (None, ""):
            continue
        text = _public_text(item, value, person)
        if text is not None:
            shown[item.code] = text
    return shown


def _public_text(item: Item, value: Any, person: bool) -> str | None:
    text = "；".join(value) if isinstance(value, list) else str(value)
    if item.mask or (person and item.type is ItemType.ID_NUMBER):
        if item.type is not ItemType.ID_NUMBER:
            return None  # a phone or an address is never public, not even masked
        return _mask(item, text)
    return text
