"""A subject's standing at a glance (the banner a subject page opens with): the lists it is on
now, records under objection, records repaired, and a registration that has ended.

Everything comes from the records the principal may see (the disclosure engine's
``visible_records``): the public learns nothing here it could not read in the tabs below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from xinyong.accounts.purposes import read_as
from xinyong.accounts.roles import Principal
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Disclosure, Nature
from xinyong.disclosure import visible_records
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.view import public_sql
from xinyong.portal.service import viewable_subject
from xinyong.records.models import records
from xinyong.records.states import OBJECTED, REPAIRED
from xinyong.subjects.models import subjects

# List kinds (catalogue ``list_kind``) in the order and tone the banner gives them.
LIST_TONES = {"black": "danger", "watch": "warn", "abnormal": "warn", "red": "good"}
# 登记状态 values that say the subject no longer trades.
ENDED_REGISTRATION = frozenset({"吊销", "注销", "撤销", "迁出"})
# Enough to see every list entry and objection of one subject; a subject with more shows the
# first ones (the tabs below page through all of them).
MAX_RECORDS = 500


@dataclass(frozen=True)
class ListStanding:
    kind: str  # black / watch / abnormal / red
    tone: str  # danger / warn / good
    dataset: str
    name: str  # the dataset's name: 严重失信主体名单, 失信被执行人…
    count: int


@dataclass(frozen=True)
class Standing:
    lists: tuple[ListStanding, ...] = ()
    objected: int = 0  # records shown 异议处理中
    repaired: int = 0  # records repaired (seen only by who may see archived records)
    registration_ended: str | None = None  # 吊销 / 注销 … from 登记状态
    tones: frozenset[str] = field(default_factory=frozenset)

    @property
    def tone(self) -> str:
        """The banner's colour: the gravest of its parts; ``none`` when there is nothing."""
        for tone in ("danger", "warn", "good"):
            if tone in self.tones:
                return tone
        return "none"


def subject_standing(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    purpose: str | None = None,
) -> Standing:
    """The banner of subject ``subject_id`` (a merge's survivor) as ``principal`` sees it
    (``accounts.purposes.read_as``: a government reader without a purpose sees the public's);
    only datasets the principal sees records of are read."""
    principal, purpose = read_as(principal, purpose)
    subject, counts, authorised, _ = viewable_subject(conn, catalog, principal, subject_id, purpose)
    shown_codes = [code for code, n in counts.items() if n and code in catalog.datasets]
    shown = (
        visible_records(
            conn,
            catalog,
            principal,
            subject,
            datasets=shown_codes,
            authorised=authorised,
            limit=MAX_RECORDS,
        )
        if shown_codes
        else []
    )
    # entries in force: what a government viewer also sees archived (期满, 已修复) is history
    on_list: dict[str, int] = {}
    for record in shown:
        if catalog.dataset(record.dataset).list_kind and record.public_reason is None:
            on_list[record.dataset] = on_list.get(record.dataset, 0) + 1
    order = list(LIST_TONES)
    lists = tuple(
        ListStanding(
            kind=kind,
            tone=LIST_TONES.get(kind, "warn"),
            dataset=code,
            name=catalog.dataset(code).name,
            count=n,
        )
        for code, n, kind in sorted(
            ((c, n, catalog.dataset(c).list_kind or "") for c, n in on_list.items()),
            key=lambda p: order.index(p[2]) if p[2] in order else len(order),
        )
    )
    objected = sum(1 for r in shown if r.state == OBJECTED)
    repaired = sum(1 for r in shown if r.state == REPAIRED)
    status = subject.get("status")
    ended = status if status in ENDED_REGISTRATION else None
    tones = {s.tone for s in lists}
    if objected or ended:
        tones.add("warn")
    if repaired:
        tones.add("good")
    return Standing(lists, objected, repaired, ended, frozenset(tones))


# 法人登记基础信息: the dataset and items a search result and a page heading show.
REGISTRATION = "FRJC"
LEGAL_REP_ITEM = "DJ_FDDBR"
INDUSTRY_ITEM = "DJ_HYDM"


@dataclass(frozen=True)
class Registration:
    legal_rep: str | None
    industry: str | None  # 国民经济行业分类代码 (GB/T 4754), e.g. C2614


def registrations(
    conn: Connection, catalog: Catalog, subject_ids: list[int]
) -> dict[int, Registration]:
    """The public 法人登记基础信息 of each subject that has one: 法定代表人 and 行业. Public to
    anyone (《企业信息公示暂行条例》第六条); never a natural person's."""
    if not subject_ids or REGISTRATION not in catalog.datasets:
        return {}
    on = answer_day(conn)
    rows = conn.execute(
        select(records.c.subject_id, records.c.data)
        .select_from(records.join(subjects, subjects.c.id == records.c.subject_id))
        .where(
            records.c.dataset == REGISTRATION,
            records.c.subject_id.in_(subject_ids),
            public_sql(catalog, (REGISTRATION,), on),
        )
    )
    found: dict[int, Registration] = {}
    for subject_id, data in rows:
        found[subject_id] = Registration(
            legal_rep=data.get(LEGAL_REP_ITEM) or None, industry=data.get(INDUSTRY_ITEM) or None
        )
    return found


def dishonest_datasets(catalog: Catalog) -> tuple[str, ...]:
    """The public datasets whose records are 失信信息 (catalogue ``nature``)."""
    return tuple(
        code
        for code, ds in catalog.datasets.items()
        if ds.nature is Nature.DISHONEST and ds.disclosure is Disclosure.PUBLIC
    )


@dataclass(frozen=True)
class Marks:
    """What a search result shows beside a subject's name."""

    black_lists: tuple[str, ...]  # names of the black lists it is on
    dishonest: int  # 失信 records in public view (penalties, list entries…)


def search_marks(conn: Connection, catalog: Catalog, subject_ids: list[int]) -> dict[int, Marks]:
    """Per subject of a search page: the black lists it is on and its 失信 records, counted
    over what anyone may see (``public_sql``), in one statement."""
    codes = dishonest_datasets(catalog)
    if not subject_ids or not codes:
        return {}
    on = answer_day(conn)
    rows = conn.execute(
        select(records.c.subject_id, records.c.dataset, func.count())
        .select_from(records.join(subjects, subjects.c.id == records.c.subject_id))
        .where(records.c.subject_id.in_(subject_ids), public_sql(catalog, codes, on))
        .group_by(records.c.subject_id, records.c.dataset)
    ).all()
    found: dict[int, dict[str, int]] = {}
    for subject_id, code, n in rows:
        found.setdefault(subject_id, {})[code] = n
    return {
        subject_id: Marks(
            black_lists=tuple(
                catalog.dataset(c).name for c in per if catalog.dataset(c).list_kind == "black"
            ),
            dishonest=sum(per.values()),
        )
        for subject_id, per in found.items()
    }
