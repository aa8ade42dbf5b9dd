"""A model's rules as SQL: one pass over the records in force, set-based for every subject.

``matched_records`` gives, per record in force on the day, the first indicator of the model
that takes it (no record counts twice) with its points after decay, and which hard rules it
triggers. ``scored`` folds those per subject: indicator totals with the repeat factor and the
bounds, dimension totals, the score, the grade and the class, hard rules last. Both are plain
SELECTs: a full run inserts ``scored`` into ``evaluation_results`` with one INSERT … SELECT,
and one subject's explanation runs the same statements restricted to it, so a subject always
reads the arithmetic its grade came from.

Only bound dates reach the statements (decay cut-offs are computed here), and the few
functions used (CASE, SUM, MIN, MAX, COUNT, SUBSTR, CAST) read the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from xinyong.catalog.loader import Catalog
from xinyong.db import greatest, least, unindexed
from xinyong.disclosure.in_force import entry_in_force_sql, in_force_sql
from xinyong.evaluation.definitions import (
    Band,
    EvaluationModel,
    Indicator,
    Match,
    decay_cutoffs,
)
from xinyong.lists.models import list_entries
from xinyong.records.models import records
from xinyong.subjects.models import subjects

LISTED = "listed"

# A day in a rule: a date, or the statement's bound parameter ``on`` (the cached statements)
Day = date | ColumnElement[Any]


def _num(value: float) -> ColumnElement[Any]:
    return literal(float(value), Float)


def list_sql(catalog: Catalog, classes: Sequence[str], on: Day) -> ColumnElement[bool]:
    """The record is an entry in force on ``on`` of a list of one of ``classes``."""
    kinds = catalog.lists.of_classes(tuple(classes))
    # entries delivered before the register (no list_kind) are read by their dataset when it
    # holds only kinds of the wanted classes
    whole = sorted(
        {
            k.dataset
            for k in catalog.lists.kinds.values()
            if k.code in kinds and all(o.code in kinds for o in catalog.lists.of_dataset(k.dataset))
        }
    )
    kind = or_(
        list_entries.c.list_kind.in_(sorted(kinds)),
        and_(list_entries.c.list_kind.is_(None), records.c.dataset.in_(whole)),
    )
    return and_(
        list_entries.c.status == LISTED,
        or_(list_entries.c.listed_on.is_(None), list_entries.c.listed_on <= on),
        entry_in_force_sql(list_entries.c.valid_until, on),
        kind,
    )


def _list_datasets(catalog: Catalog, classes: Sequence[str]) -> set[str]:
    return {catalog.lists.kinds[k].dataset for k in catalog.lists.of_classes(tuple(classes))}


def match_datasets(catalog: Catalog, match: Match) -> list[str]:
    """The datasets whose records ``match`` may take."""
    names = set(match.datasets) if match.datasets else _list_datasets(catalog, match.lists)
    if match.datasets and match.lists:
        names &= _list_datasets(catalog, match.lists)
    return sorted(names)


def _within(catalog: Catalog, match: Match, on: Day) -> ColumnElement[bool]:
    """``match`` for a record of one of its datasets (the dataset is tested by the caller)."""
    parts: list[ColumnElement[bool]] = []
    if match.classes:
        parts.append(records.c.publicity_class.in_(match.classes))
    for code, values in match.fields.items():
        parts.append(records.c.data[code].as_string().in_(values))
    if match.lists:
        parts.append(list_sql(catalog, match.lists, on))
    return and_(true(), *parts)


def match_sql(catalog: Catalog, match: Match, on: Day) -> ColumnElement[bool]:
    return and_(records.c.dataset.in_(match_datasets(catalog, match)), _within(catalog, match, on))


def _cut(n: int, k: int) -> str:
    """The parameter holding the earliest decision date of indicator n's decay band k."""
    return f"cut_{n}_{k}"


def _decay(ind: Indicator, n: int) -> ColumnElement[Any]:
    if not ind.decay:
        return _num(1.0)
    when: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = [
        (records.c.decision_date.is_(None), _num(ind.decay[0].factor))
    ]
    when += [
        (records.c.decision_date >= bindparam(_cut(n, k), type_=Date), _num(band.factor))
        for k, band in enumerate(ind.decay)
    ]
    return case(*when, else_=_num(0.0))


def _points(ind: Indicator, n: int) -> ColumnElement[Any]:
    if ind.points is not None:
        base: ColumnElement[Any] = _num(ind.points)
    else:
        assert ind.values_field is not None
        value = records.c.data[ind.values_field].as_string()
        base = case(*((value == v, _num(p)) for v, p in ind.values.items()), else_=_num(0.0))
    return base * _decay(ind, n)


def model_datasets(catalog: Catalog, model: EvaluationModel) -> list[str]:
    """Every dataset whose records a rule of the model may take (the pass reads only those)."""
    matches = [i.match for i in model.indicators] + [h.match for h in model.hard_rules]
    return sorted({d for m in matches for d in match_datasets(catalog, m)})


@dataclass(frozen=True)
class Bound:
    """A statement and the values of its parameters: ``conn.execute(b.statement, b.params)``."""

    statement: Select[Any]
    params: dict[str, Any]


# Built statements by (catalog, model, for one subject, with exclusions): building one costs
# tens of milliseconds of Python, more than running it for one subject; the day, the subject
# and the excluded records are parameters. The objects are kept to check identity on a hit.
_BUILT: dict[tuple[int, int, bool, bool, str], tuple[Catalog, EvaluationModel, Select[Any]]] = {}


def _built(
    catalog: Catalog, model: EvaluationModel, one: bool, excl: bool, what: str
) -> Select[Any]:
    key = (id(catalog), id(model), one, excl, what)
    hit = _BUILT.get(key)
    if hit is not None and hit[0] is catalog and hit[1] is model:
        return hit[2]
    build = _matched if what == "matched" else _scored
    statement = build(catalog, model, one, excl)
    if len(_BUILT) > 256:  # catalogues reloaded many times (tests): forget the old ones
        _BUILT.clear()
    _BUILT[key] = (catalog, model, statement)
    return statement


def _params(
    model: EvaluationModel, on: date, subject_id: int | None, exclude: Iterable[int]
) -> dict[str, Any]:
    params: dict[str, Any] = {"on": on}
    for n, ind in enumerate(model.indicators):
        for k, (cut, _) in enumerate(decay_cutoffs(ind, on)):
            params[_cut(n, k)] = cut
    if subject_id is not None:
        params["subject"] = subject_id
    excluded = sorted(set(exclude))
    if excluded:
        params["exclude"] = excluded
    return params


def matched_records(
    catalog: Catalog,
    model: EvaluationModel,
    on: date,
    *,
    subject_id: int | None = None,
    exclude: Iterable[int] = (),
) -> Bound:
    """Per record in force on ``on`` of the model's datasets: subject_id, record_id, dataset,
    decision_date, publicity_max_end, valid_until, ind (the index of the first indicator that
    takes it, or NULL), pts, h0… (1 where a hard rule takes it). Records no rule takes are not
    filtered out here: a filter would evaluate every rule's condition once more per record."""
    params = _params(model, on, subject_id, exclude)
    return Bound(
        _built(catalog, model, subject_id is not None, "exclude" in params, "matched"), params
    )


def _matched(catalog: Catalog, model: EvaluationModel, one: bool, excl: bool) -> Select[Any]:
    on = bindparam("on", type_=Date)
    inds = model.indicators
    # A record's indicator: per dataset (a plain CASE on the column), the first indicator in
    # model order that takes it, so that a record is tested only against the rules of its own
    # dataset; its points: a CASE on that index, evaluated once.
    by_dataset: dict[str, list[tuple[int, ColumnElement[bool]]]] = {}
    for n, i in enumerate(inds):
        for name in match_datasets(catalog, i.match):
            by_dataset.setdefault(name, []).append((n, _within(catalog, i.match, on)))
    ind: ColumnElement[Any] = (
        case(
            {
                name: case(*((cond, literal(n)) for n, cond in found), else_=null())
                for name, found in by_dataset.items()
            },
            value=records.c.dataset,
            else_=null(),
        )
        if by_dataset
        else null()
    )
    pts: ColumnElement[Any] = (
        case({n: _points(i, n) for n, i in enumerate(inds)}, value=ind, else_=null())
        if inds
        else null()
    )
    hards = [match_sql(catalog, h.match, on) for h in model.hard_rules]
    scan = not one
    decided: ColumnElement[Any] = records.c.decision_date
    if scan:
        decided = unindexed(decided, type_=decided.type)
    where: list[ColumnElement[bool]] = [
        in_force_sql(on, counted=model.counted_states, scan=scan),
        or_(decided.is_(None), decided <= on),
    ]
    if one:
        where += [
            records.c.dataset.in_(model_datasets(catalog, model)),
            records.c.subject_id == bindparam("subject", type_=records.c.subject_id.type),
        ]
    else:
        # every subject: most of the table, read in table order; on SQLite an index would
        # otherwise be walked (or several, for the ORs) and each row fetched at random
        where += [
            unindexed(records.c.dataset, type_=records.c.dataset.type).in_(
                model_datasets(catalog, model)
            ),
            unindexed(records.c.subject_id, type_=records.c.subject_id.type).is_not(None),
        ]
    if excl:
        where.append(records.c.id.not_in(bindparam("exclude", expanding=True)))
    query = (
        select(
            records.c.subject_id,
            records.c.id.label("record_id"),
            records.c.dataset,
            records.c.decision_date,
            records.c.publicity_max_end,
            list_entries.c.valid_until,
            ind.label("ind"),
            pts.label("pts"),
            *(case((h, 1), else_=0).label(f"h{n}") for n, h in enumerate(hards)),
        )
        .select_from(
            records.outerjoin(
                list_entries,
                and_(
                    list_entries.c.record_id == records.c.id,
                    records.c.dataset.in_(_all_list_datasets(catalog)),
                ),
            )
        )
        .where(*where)
    )
    return query


def _all_list_datasets(catalog: Catalog) -> list[str]:
    return sorted({k.dataset for k in catalog.lists.kinds.values()})


def _clamp(x: ColumnElement[Any], lo: float | None, hi: float | None) -> ColumnElement[Any]:
    # greatest/least name ``x`` once: a CASE would repeat it, and the nested bounds of
    # indicators, dimensions and the score would then grow exponentially
    if lo is not None:
        x = greatest(x, _num(lo))
    if hi is not None:
        x = least(x, _num(hi))
    return x


def _band(bands: Sequence[Band], score: ColumnElement[Any]) -> ColumnElement[Any]:
    return case(
        *((score >= _num(b.min), literal(b.code)) for b in bands[:-1] if b.min is not None),
        else_=literal(bands[-1].code),
    )


def _attribute(alias: Any, model: EvaluationModel, which: str) -> ColumnElement[Any]:
    attr = model.industry if which == "industry" else model.district
    if attr is None or alias is None:
        return cast(null(), String)
    value = alias.c.data[attr.field].as_string()
    return func.substr(value, 1, attr.prefix) if attr.prefix else value


def scored(
    catalog: Catalog,
    model: EvaluationModel,
    on: date,
    *,
    subject_id: int | None = None,
    exclude: Iterable[int] = (),
) -> Bound:
    """One row per subject the model scores: subject_id, score, grade, class, hard, points
    (JSON text, per indicator in model order), industry, district."""
    params = _params(model, on, subject_id, exclude)
    return Bound(
        _built(catalog, model, subject_id is not None, "exclude" in params, "scored"), params
    )


def _scored(catalog: Catalog, model: EvaluationModel, one: bool, excl: bool) -> Select[Any]:
    inds = model.indicators
    # OFFSET 0 keeps the records' pass a subquery of its own: merged into the grouping, each
    # use of ``pts`` (four) would repeat the CASE choosing the indicator, on both databases
    rec = _matched(catalog, model, one, excl).offset(0).subquery("rec")
    # Two groupings: first per subject and indicator, so that the CASE choosing a record's
    # indicator and points is evaluated once per record (a pivot straight over the records
    # would evaluate it again for every indicator), then the few rows per subject pivoted.
    hard_names = [f"h{n}" for n in range(len(model.hard_rules))]
    nonzero = case((rec.c.pts != 0, rec.c.pts), else_=null())
    per_ind = (
        select(
            rec.c.subject_id,
            rec.c.ind,
            func.sum(rec.c.pts).label("s"),
            # the oldest record has the points nearest to zero (decay never grows with age);
            # a record aged past the last decay band is matched but worth nothing
            func.max(nonzero).label("hi"),
            func.min(nonzero).label("lo"),
            *(func.max(rec.c[h]).label(h) for h in hard_names),
        )
        .group_by(rec.c.subject_id, rec.c.ind)
        .subquery("per_ind")
    )
    cols: list[ColumnElement[Any]] = []
    for n, i in enumerate(inds):
        hit = per_ind.c.ind == n
        cols.append(func.sum(case((hit, per_ind.c.s), else_=null())).label(f"s{n}"))
        if i.repeat is not None:
            oldest = per_ind.c.hi if i.unit < 0 else per_ind.c.lo
            cols.append(func.max(case((hit, oldest), else_=null())).label(f"f{n}"))
    cols += [func.max(per_ind.c[h]).label(h) for h in hard_names]
    agg = select(per_ind.c.subject_id, *cols).group_by(per_ind.c.subject_id).subquery("agg")

    # per subject: the points of every indicator, bounded
    s = subjects
    where: list[ColumnElement[bool]] = [
        s.c.category.in_(model.subjects),
        s.c.merged_into.is_(None),
    ]
    if model.exclude_status:
        where.append(or_(s.c.status.is_(None), s.c.status.not_in(model.exclude_status)))
    if one:
        where.append(s.c.id == bindparam("subject", type_=s.c.id.type))
    joined: Any = s.outerjoin(agg, agg.c.subject_id == s.c.id)
    attrs: dict[str, Any] = {}
    for which in ("industry", "district"):
        attr = model.industry if which == "industry" else model.district
        if attr is None:
            continue
        same = next((a for w, a in attrs.items() if _same(model, w, attr.dataset)), None)
        if same is None:
            same = records.alias(f"attr_{which}")
            joined = joined.outerjoin(
                same, and_(same.c.subject_id == s.c.id, same.c.dataset == attr.dataset)
            )
        attrs[which] = same
    ind_points: list[ColumnElement[Any]] = []
    for n, i in enumerate(inds):
        summed: ColumnElement[Any] = func.coalesce(agg.c[f"s{n}"], 0.0)
        if i.repeat is not None:
            first = func.coalesce(agg.c[f"f{n}"], 0.0)
            summed = summed + _num(i.repeat.factor - 1) * (summed - first)
        ind_points.append(_clamp(summed, i.min_points, i.max_points).label(f"p{n}"))
    hard_cols = [
        func.coalesce(agg.c[f"h{n}"], 0).label(f"h{n}") for n in range(len(model.hard_rules))
    ]
    layer = (
        select(
            s.c.id.label("subject_id"),
            *ind_points,
            *hard_cols,
            _attribute(attrs.get("industry"), model, "industry").label("industry"),
            _attribute(attrs.get("district"), model, "district").label("district"),
        )
        .select_from(joined)
        .where(*where)
        .subquery("pts")
    )

    # dimensions, the score within the model's bounds, the hard rules' caps
    total: ColumnElement[Any] = _num(model.base)
    n = 0
    for dim in model.dimensions:
        dim_sum: ColumnElement[Any] = _num(0.0)
        for _ in dim.indicators:
            dim_sum = dim_sum + layer.c[f"p{n}"]
            n += 1
        total = total + _clamp(dim_sum, dim.min_points, dim.max_points)
    score = _clamp(total, model.bounds.floor, model.bounds.ceiling)
    for k, rule in enumerate(model.hard_rules):
        if rule.score_at_most is not None:
            capped = least(score, _num(rule.score_at_most))
            score = case((layer.c[f"h{k}"] == 1, capped), else_=score)
    # a subquery of its own (OFFSET 0): the grade and the class compare the score with every
    # band, and a score merged into them would be computed again for each comparison
    scores = select(layer, score.label("score")).offset(0).subquery("scores")

    lowest = or_(
        false(), *(scores.c[f"h{k}"] == 1 for k, r in enumerate(model.hard_rules) if r.lowest)
    )
    grade = case(
        (lowest, literal(model.grades[-1].code)), else_=_band(model.grades, scores.c.score)
    )
    klass: ColumnElement[Any] = (
        case((lowest, literal(model.classes[-1].code)), else_=_band(model.classes, scores.c.score))
        if model.classes
        else cast(null(), String)
    )
    hard = (
        case(
            *((scores.c[f"h{k}"] == 1, literal(r.code)) for k, r in enumerate(model.hard_rules)),
            else_=cast(null(), String),
        )
        if model.hard_rules
        else cast(null(), String)
    )
    text: ColumnElement[Any] = literal("[")
    for k in range(len(inds)):
        if k:
            text = text + literal(",")
        text = text + cast(scores.c[f"p{k}"], String)
    text = text + literal("]")
    return select(
        scores.c.subject_id,
        scores.c.score,
        grade.label("grade"),
        klass.label("class"),
        hard.label("hard"),
        text.label("points"),
        scores.c.industry,
        scores.c.district,
    )


def _same(model: EvaluationModel, which: str, dataset: str) -> bool:
    attr = model.industry if which == "industry" else model.district
    return attr is not None and attr.dataset == dataset
