"""Sample rows for any catalogue dataset, made from its definition.

The hand-written makers in ``datasets.py`` give the 双公示 and registration files their
realistic texts and their bad rows; this one fills every other dataset (the lists, tax grades,
commitments, honours, public servants' records) with valid, plainly synthetic rows, so that the
demo shows them and a test proves each shipped catalogue file can actually be delivered.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from xinyong.catalog.lists import KIND_ITEM, NAME_ITEM, ListKind
from xinyong.catalog.schema import Dataset, Item, ItemType, RuleKind
from xinyong.ingest.rows import ID_CARD_LABEL
from xinyong.sample.datasets import SYNTHETIC_NOTE, Dept, SampleRow
from xinyong.sample.world import Org, World, make_id
from xinyong.subjects.refs import INDIVIDUAL_BUSINESS, ORGANISATION, PERSON


def _fill(item: Item, world: World, when: date) -> str:
    """A plausible value for an item outside the subject block."""
    match item.type:
        case ItemType.DATE:
            return when.isoformat()
        case ItemType.DECIMAL:
            return str(world.rng.choice((0.5, 1, 3, 10, 50)))
        case ItemType.INTEGER:
            return str(world.rng.randrange(1, 100))
        case ItemType.YEAR:
            return str(when.year)
        case ItemType.ENUM:
            return world.rng.choice(item.enum).label
        case ItemType.ID_NUMBER:
            return world.person().id_number
        case _:
            text = f"{item.name}（{SYNTHETIC_NOTE}）"
            return text[: item.max_length] if item.max_length else text


# HN-Reg art. 35: a list entry of an organisation names its 法定代表人 with an ID number
_LEGAL_REP = ("MD_ZRR", "MD_ZRR_ZJLX", "MD_ZRR_ZJHM")


def _legal_rep(dataset: Dataset, org: Org) -> dict[str, str]:
    """The organisation's legal representative by name and a synthetic ID number, derived from
    the organisation's code alone (the same person in every file; the world's draws stay as
    they were)."""
    if not all(code in {i.code for i in dataset.items} for code in _LEGAL_REP):
        return {}
    rng = random.Random(org.uscc)
    birth = date(1960 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28))
    values = (org.legal_rep, ID_CARD_LABEL, make_id(rng, org.division, birth))
    return dict(zip(_LEGAL_REP, values, strict=True))


def _categories(dataset: Dataset) -> list[str]:
    if dataset.subject.category is None:
        return [dataset.subject.default_category or ORGANISATION]
    allowed = {o.label for o in dataset.item(dataset.subject.category).enum}
    return [c for c in (ORGANISATION, INDIVIDUAL_BUSINESS, PERSON) if c in allowed]


def generic_rows(
    dataset: Dataset,
    world: World,
    dept: Dept,
    n: int,
    *,
    kind: ListKind | None = None,
    offset: float = 0.0,
) -> Iterator[SampleRow]:
    """``n`` valid rows of ``dataset`` delivered by ``dept``, keyed by item name.

    ``kind``: the list kind (名单类别) every row of a list dataset is on, one the department
    designates. ``offset``: where in the subject pools the rows start (a fraction), so that
    the red list and the black lists of the demo name mostly different subjects."""
    sub = dataset.subject
    subject_items = {
        c for c in (sub.name, sub.category, sub.uscc, sub.org_code, sub.reg_no) if c
    } | {c for c in (sub.id_type, sub.id_number, sub.former_names, sub.status) if c}
    # Dates that a rule orders: the earlier one lies a year back (the later ones stay on the
    # decision date, which is in the past, so that "not in the future" holds too).
    before = {r.before for r in dataset.rules if r.kind is RuleKind.DATE_ORDER and r.before}
    after = {r.after for r in dataset.rules if r.kind is RuleKind.DATE_ORDER and r.after}
    earlier = before - after
    uscc_items = [
        i for i in dataset.items if i.type is ItemType.USCC and i.code not in subject_items
    ]
    categories = _categories(dataset)
    pools = {
        flag: [o for o in world.orgs if o.is_individual_business == flag] for flag in (True, False)
    }
    for seq in range(1, n + 1):
        decided = world.day(end=date(2026, 10, 31))
        category = categories[seq % len(categories)]
        cells: dict[str, str] = {}
        # distinct subjects, so that datasets keyed by the subject alone have no repeats
        if category == PERSON:
            person = world.persons[(int(offset * len(world.persons)) + seq) % len(world.persons)]
            cells[sub.name] = person.name
            if sub.id_type:
                cells[sub.id_type] = ID_CARD_LABEL
            if sub.id_number:
                cells[sub.id_number] = person.id_number
        else:
            pool = pools[category == INDIVIDUAL_BUSINESS] or world.orgs
            org = pool[(int(offset * len(pool)) + seq) % len(pool)]
            cells[sub.name] = org.name
            if sub.uscc:
                cells[sub.uscc] = org.uscc
            cells.update(_legal_rep(dataset, org))
        if sub.category:
            cells[sub.category] = category
        for item in uscc_items:
            cells[item.code] = dept.uscc  # 认定部门、数据来源单位 … : the delivering department
        if kind is not None:
            for code, value in ((KIND_ITEM, kind.code), (NAME_ITEM, kind.name)):
                if code in {i.code for i in dataset.items}:
                    cells[code] = value
            for code in ("MD_RDBM", "MD_SJLY"):  # the department's name beside its code
                if code in {i.code for i in dataset.items}:
                    cells[code] = dept.name
        for item in dataset.items:
            if item.code in cells or item.code in subject_items:
                continue
            needed = item.required or any(
                c.field in cells
                and (
                    (c.in_ and cells[c.field] in c.in_)
                    or (c.contains and cells[c.field] in c.contains)
                )
                for c in item.required_when
            )
            if needed:
                when = decided - timedelta(days=365) if item.code in earlier else decided
                cells[item.code] = _fill(item, world, when)
        # a unique document number where the key has one
        for key in dataset.natural_key:
            if key != "subject" and dataset.item(key).type is ItemType.TEXT:
                cells[key] = f"濮样字〔{decided.year}〕{seq:05d}号"
        yield SampleRow({dataset.item(code).name: value for code, value in cells.items()})
