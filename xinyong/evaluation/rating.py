"""A rating (``kind: criteria``) as SQL: one statement rates every unit of the model, set-based.

Per unit (a subject with a record in force of the model's ``unit`` dataset, its latest one): each
criterion's figure — an item of the unit's record, the ratio of two, the share of its members
meeting a condition or passing another model's current run, the number of its counted records
of a kind — whether the figure meets the threshold, and the grade: passed when every criterion
holds. The members of all units are grouped once by their area code and joined to the units by
theirs, so a township's share over its villages and a village's over its households are one
GROUP BY each, not a query per unit.

The statement's rows carry, beside the result columns a run stores, each criterion's figure
(``f0``…), its numerator and denominator where it has them (``a0``/``b0``…) and whether it was
met (``m0``…): one subject's explanation runs the same statement restricted to it.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from typing import cast as as_type

from sqlalchemy import (
    Connection,
    Date,
    Float,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from xinyong.catalog.loader import Catalog
from xinyong.disclosure.in_force import in_force_sql
from xinyong.evaluation.definitions import (
    Condition,
    Criterion,
    RatingModel,
    Threshold,
    model_book,
)
from xinyong.evaluation.models import evaluation_results
from xinyong.evaluation.scoring import Bound, match_datasets, match_sql
from xinyong.lists.models import list_entries
from xinyong.records.models import records
from xinyong.subjects.models import subjects


def run_param(model: str) -> str:
    """The parameter holding the run of ``model`` whose results a share reads."""
    return f"run_{model}"


def datasets(catalog: Catalog, model: RatingModel) -> list[str]:
    """Every dataset the rating reads (its inputs, for ``daily``)."""
    names = {model.unit.dataset}
    for c in model.criteria:
        if c.share is not None:
            names.add(c.share.members.dataset)
        if c.none is not None:
            names.update(match_datasets(catalog, c.none))
    return sorted(names)


def _text(table: Any, item: str) -> ColumnElement[Any]:
    found: ColumnElement[Any] = table.c.data[item].as_string()
    return found


def _number(table: Any, item: str) -> ColumnElement[Any]:
    return cast(_text(table, item), Float)


def _meets(figure: ColumnElement[Any], t: Threshold) -> ColumnElement[bool]:
    """``figure`` against the threshold (NULL — missing data — never meets it)."""
    if t.in_:
        return figure.in_(t.in_)
    parts: list[ColumnElement[bool]] = []
    if t.at_least is not None:
        parts.append(figure >= t.at_least)
    if t.above is not None:
        parts.append(figure > t.above)
    if t.at_most is not None:
        parts.append(figure <= t.at_most)
    if t.below is not None:
        parts.append(figure < t.below)
    return and_(*parts)


def _holds(table: Any, cond: Condition) -> ColumnElement[bool]:
    figure = _text(table, cond.field) if cond.in_ else _number(table, cond.field)
    return _meets(figure, cond)


def _latest(
    dataset: str,
    where: tuple[Condition, ...],
    counted: tuple[str, ...],
    name: str,
    one: bool,
    area: tuple[str, int | None] | None = None,
) -> Any:
    """Per subject, the id of its latest record in force of ``dataset`` meeting ``where``;
    ``one``: the statement's subject's only; ``area``: (key item, prefix) of members, only those
    of the statement's bound ``area`` (one unit's explanation reads its own members alone)."""
    r = records.alias(name)
    on = bindparam("on", type_=Date)
    conds: list[ColumnElement[bool]] = [
        r.c.dataset == dataset,
        r.c.subject_id.is_not(None),
        in_force_sql(on, counted=counted, table=as_type(Table, r)),
        or_(r.c.decision_date.is_(None), r.c.decision_date <= on),
        *(_holds(r, c) for c in where),
    ]
    if one:
        conds.append(r.c.subject_id == bindparam("subject", type_=r.c.subject_id.type))
    if area is not None:
        key, prefix = area
        wanted = bindparam("area", type_=String)
        conds.append(_area(_text(r, key), prefix) == _area(wanted, prefix))
    return (
        select(r.c.subject_id, func.max(r.c.id).label("id"))
        .where(*conds)
        .group_by(r.c.subject_id)
        .subquery(f"{name}_latest")
    )


def _area(code: ColumnElement[Any], prefix: int | None) -> ColumnElement[Any]:
    return func.substr(code, 1, prefix) if prefix else code


def _share(model: RatingModel, c: Criterion, k: int, one: bool) -> Any:
    """Per area code: d (members counted) and n (of those, the ones meeting the criterion)."""
    assert c.share is not None
    share = c.share
    m_ids = _latest(
        share.members.dataset,
        share.members.where,
        model.counted_states,
        f"m{k}",
        False,
        (share.members.key, share.members.prefix) if one else None,
    )
    m = records.alias(f"mr{k}")
    joined: Any = m_ids.join(m, m.c.id == m_ids.c.id)
    of = and_(true(), *(_holds(m, x) for x in share.of))
    if share.rated is not None:
        er = evaluation_results.alias(f"er{k}")
        joined = joined.outerjoin(
            er,
            and_(
                er.c.run_id == bindparam(run_param(share.rated.model), type_=er.c.run_id.type),
                er.c.subject_id == m.c.subject_id,
            ),
        )
        hit: ColumnElement[bool] = er.c.grade.in_(share.rated.grades or [bindparam(f"pass_{k}")])
    else:
        hit = and_(*(_holds(m, x) for x in share.that))
    flags = (
        select(
            _area(_text(m, share.members.key), share.members.prefix).label("area"),
            case((of, 1), else_=0).label("of_"),
            case((and_(of, hit), 1), else_=0).label("hit"),
        )
        .select_from(joined)
        .subquery(f"f{k}")
    )
    return (
        select(
            flags.c.area,
            func.sum(flags.c.of_).label("d"),
            func.sum(flags.c.hit).label("n"),
        )
        .group_by(flags.c.area)
        .subquery(f"share{k}")
    )


def _none_count(catalog: Catalog, model: RatingModel, c: Criterion) -> ColumnElement[Any]:
    """The subject's counted records in force that ``c.none`` takes (a correlated count)."""
    assert c.none is not None
    on = bindparam("on", type_=Date)
    list_sets = sorted({k.dataset for k in catalog.lists.kinds.values()})
    return (
        select(func.count(records.c.id))
        .select_from(
            records.outerjoin(
                list_entries,
                and_(
                    list_entries.c.record_id == records.c.id,
                    records.c.dataset.in_(list_sets),
                ),
            )
        )
        .where(
            records.c.subject_id == subjects.c.id,
            in_force_sql(on, counted=model.counted_states),
            or_(records.c.decision_date.is_(None), records.c.decision_date <= on),
            match_sql(catalog, c.none, on),
        )
        .correlate(subjects)
        .scalar_subquery()
    )


def _statement(catalog: Catalog, model: RatingModel, one: bool) -> Any:
    s = subjects
    lu = _latest(model.unit.dataset, model.unit.where, model.counted_states, "unit", one)
    u = records.alias("u")
    joined: Any = s.join(lu, lu.c.subject_id == s.c.id).join(u, u.c.id == lu.c.id)
    key = _text(u, model.unit.key) if model.unit.key else cast(null(), String)
    cols: list[ColumnElement[Any]] = []
    for k, c in enumerate(model.criteria):
        a: ColumnElement[Any] = cast(null(), Float)
        b: ColumnElement[Any] = cast(null(), Float)
        if c.value is not None:
            figure: ColumnElement[Any] = _text(u, c.value) if c.in_ else _number(u, c.value)
        elif c.ratio is not None:
            a, b = _number(u, c.ratio.num), _number(u, c.ratio.den)
            figure = case((b > 0, a / b), else_=cast(null(), Float))
        elif c.share is not None:
            sh = _share(model, c, k, one)
            joined = joined.outerjoin(sh, sh.c.area == _area(key, c.share.members.prefix))
            a, b = func.coalesce(sh.c.n, 0), func.coalesce(sh.c.d, 0)
            figure = case((b > 0, cast(a, Float) / b), else_=cast(null(), Float))
        else:
            figure = _none_count(catalog, model, c)
        met = figure == 0 if c.none is not None else _meets(figure, c)
        cols += [
            figure.label(f"f{k}"),
            a.label(f"a{k}"),
            b.label(f"b{k}"),
            case((met, 1), else_=0).label(f"m{k}"),
        ]
    where: list[ColumnElement[bool]] = [s.c.category.in_(model.subjects), s.c.merged_into.is_(None)]
    if one:
        where.append(s.c.id == bindparam("subject", type_=s.c.id.type))
    layer = (
        select(
            s.c.id.label("subject_id"),
            (func.substr(key, 1, 6) if model.unit.key else key).label("district"),
            *cols,
        )
        .select_from(joined)
        .where(*where)
        .offset(0)
        .subquery("rated")
    )
    n = len(model.criteria)
    met_count: ColumnElement[Any] = literal(0)
    text: ColumnElement[Any] = literal("[")
    for k in range(n):
        met_count = met_count + layer.c[f"m{k}"]
        text = text + (literal(",") if k else literal("")) + cast(layer.c[f"m{k}"], String)
    text = text + literal("]")
    return select(
        layer.c.subject_id,
        cast(met_count, Float).label("score"),
        case((met_count == n, literal(model.passed.code)), else_=literal(model.failed.code)).label(
            "grade"
        ),
        cast(null(), String).label("class"),
        cast(null(), String).label("hard"),
        text.label("points"),
        cast(null(), String).label("industry"),
        layer.c.district,
        *(layer.c[f"{x}{k}"] for k in range(n) for x in "fabm"),
    )


def rated(
    catalog: Catalog,
    model: RatingModel,
    on: date,
    members: dict[str, int],
    *,
    subject_id: int | None = None,
    area: str | None = None,
) -> Bound:
    """One row per unit the model rates (restricted to ``subject_id`` when given, whose area
    code ``area`` — ``unit_area`` — limits the members read), reading the member models'
    results in the runs ``members`` names (model code → run id)."""
    params: dict[str, Any] = {"on": on}
    params.update({run_param(code): run for code, run in members.items()})
    for k, c in enumerate(model.criteria):
        if c.share is not None and c.share.rated is not None and not c.share.rated.grades:
            params[f"pass_{k}"] = _passing(catalog, c.share.rated.model)
    if subject_id is not None:
        params["subject"] = subject_id
        params["area"] = area
    return Bound(_statement(catalog, model, subject_id is not None), params)


def unit_area(conn: Connection, model: RatingModel, subject_id: int, on: date) -> str | None:
    """The area code of the subject's unit record (None: not a unit of the model, or no key)."""
    if model.unit.key is None:
        return None
    latest = _latest(model.unit.dataset, model.unit.where, model.counted_states, "ua", True)
    u = records.alias("ua_record")
    found = conn.execute(
        select(_text(u, model.unit.key)).select_from(latest.join(u, u.c.id == latest.c.id)),
        {"on": on, "subject": subject_id},
    ).scalar()
    return str(found) if found is not None else None


def _passing(catalog: Catalog, code: str) -> str:
    return model_book(catalog).get(code).grades[0].code
