"""A subject's grade explained (评价结果说明): the points of every indicator with the records
behind them, and what would change the grade — which records stop counting when (their
publicity ends, a listing's validity ends) or may be repaired from when, and the grade then.

The records behind a result are found by the same statement the run used
(``scoring.matched_records``) for the run's day, restricted to the subject; the "what if"
grades are the run's ``scored`` statement for the later day, or without the repaired record.
PIPL art. 24 (automated decisions must be explainable) is why this exists; who sees how much
follows the model's ``public`` block: the subject itself and government see everything, the
public only what the model publishes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, select

from xinyong.accounts.purposes import purpose_required, read_as
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.queries import record_read
from xinyong.catalog.loader import Catalog
from xinyong.disclosure.repair import eligibility
from xinyong.errors import NotFound
from xinyong.evaluation.definitions import (
    AnyModel,
    Band,
    Criterion,
    EvaluationModel,
    Indicator,
    RatingModel,
    model_book,
)
from xinyong.evaluation.runs import Result, member_runs, result_of, run_members, statement
from xinyong.evaluation.scoring import matched_records, scored
from xinyong.records.models import records
from xinyong.subjects.models import subjects

# how far ahead "what would change" looks, and how many changes it lists
HORIZON_DAYS = 5 * 366
MAX_CHANGES = 8


def sees_all(principal: Principal, subject_id: int) -> bool:
    """The subject itself and government see a result whole; anyone else what is public."""
    if principal.is_government:
        return True
    return principal.role is Role.SUBJECT and principal.subject_id == subject_id


def _label(bands: tuple[Band, ...], code: str | None) -> str | None:
    found = next((b for b in bands if b.code == code), None)
    return found.label if found is not None else None


def headline(model: AnyModel, result: Result) -> dict[str, Any]:
    """Grade, class and score of a result, with the class's supervision advice."""
    klass = model.band(model.classes, result.klass)
    return {
        "model": model.code,
        "model_name": model.name,
        "run": result.run.id,
        "as_of": result.run.as_of.isoformat(),
        "score": round(result.score, 2),
        "grade": result.grade,
        "grade_label": _label(model.grades, result.grade),
        "class": result.klass,
        "class_label": klass.label if klass else None,
        "inspection_ratio": klass.inspection_ratio if klass else None,
        "advice": klass.advice if klass else None,
        "hard_rule": result.hard,
        "hard_rule_name": next((h.name for h in model.hard_rules if h.code == result.hard), None),
    }


def explain(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    model_code: str,
    subject_id: int,
    *,
    run_id: int | None = None,
    with_changes: bool = True,
    purpose: str | None = None,
    audit: bool = True,
) -> dict[str, Any]:
    """The principal's view of the subject's result. A government reader sees it whole (every
    indicator with the records behind it) only when it states a purpose (查询事由,
    ``accounts.purposes.read_as``): the read is then a ``subject.read`` event carrying the
    purpose (``audit=False``: the caller's own event covers it); without one it sees what the
    public does."""
    reader, purpose = read_as(principal, purpose)
    model = model_book(catalog).get(model_code)
    result = result_of(conn, model.code, subject_id, run_id=run_id)
    if not sees_all(reader, subject_id):
        if reader is not principal and not _shows_anything(model):
            raise purpose_required()  # a government reader: not "only the subject may see"
        return _public(model, result)
    out = headline(model, result)
    if isinstance(model, RatingModel):
        out["public"] = model.public.model_dump()
        out.update(rating_explained(conn, catalog, model, result))
    else:
        # the records behind the result, read once for the points and for what would change
        rows = _behind(conn, catalog, model, result)
        out["indicators"] = _indicators(conn, catalog, model, result, rows)
        out["public"] = model.public.model_dump()
        if with_changes:
            out["changes"] = what_would_change(conn, catalog, model, result, rows)
    if audit and reader.is_government:
        record_read(
            conn,
            reader,
            subject_id,
            what="subject.read",
            purpose=purpose,
            detail={"evaluation": model.code, "run_id": result.run.id},
        )
    return out


def _behind(
    conn: Connection, catalog: Catalog, model: EvaluationModel, result: Result
) -> list[Any]:
    found = matched_records(catalog, model, result.run.as_of, subject_id=result.subject_id)
    return list(conn.execute(found.statement, found.params).all())


def _shows_anything(model: AnyModel) -> bool:
    shown = model.public
    return bool(shown.grade or shown.score or shown.indicators)


def _public(model: AnyModel, result: Result) -> dict[str, Any]:
    shown = model.public
    if not _shows_anything(model):
        raise NotFound("EVAL_NOT_PUBLIC", f"{model.name}的结果不向社会公开，仅本人可查看")
    out: dict[str, Any] = {
        "model": model.code,
        "model_name": model.name,
        "as_of": result.run.as_of.isoformat(),
    }
    if shown.grade:
        out["grade"] = result.grade
        out["grade_label"] = _label(model.grades, result.grade)
    if shown.score:
        out["score"] = round(result.score, 2)
    if shown.indicators:
        inds: tuple[Indicator | Criterion, ...] = model.indicators
        out["indicators"] = [
            {"code": i.code, "name": i.name, "points": round(p, 2)}
            for i, p in zip(inds, _aligned(model, result), strict=True)
            if i.public
        ]
    return out


def _aligned(model: AnyModel, result: Result) -> list[float]:
    """The run's points by the model's indicators as they are now (a run keeps its own order)."""
    by_code = dict(zip(result.run.indicators, result.points, strict=False))
    return [by_code.get(i.code, 0.0) for i in model.indicators]


def _indicators(
    conn: Connection,
    catalog: Catalog,
    model: EvaluationModel,
    result: Result,
    rows: list[Any] | None = None,
) -> list[dict[str, Any]]:
    behind: dict[int, list[dict[str, Any]]] = {}
    if rows is None:
        rows = _behind(conn, catalog, model, result)
    for row in rows:
        if row.ind is None or not row.pts:  # a hard rule's record only, or aged out
            continue
        behind.setdefault(int(row.ind), []).append(
            {
                "record_id": row.record_id,
                "dataset": row.dataset,
                "dataset_name": _dataset_name(catalog, row.dataset),
                "decision_date": row.decision_date.isoformat() if row.decision_date else None,
                "points": round(float(row.pts), 2),
            }
        )
    out = []
    for n, (ind, points) in enumerate(zip(model.indicators, _aligned(model, result), strict=True)):
        found = sorted(behind.get(n, []), key=lambda r: r["decision_date"] or "")
        raw = sum(r["points"] for r in found)
        notes = []
        if ind.repeat is not None and len(found) > 1:
            notes.append(f"重复记录按{ind.repeat.factor:g}倍计")
        if round(raw, 2) != round(points, 2) and (
            ind.min_points is not None or ind.max_points is not None
        ):
            notes.append("已达本项分值上限")
        out.append(
            {
                "dimension": model.dimension_of(ind.code).name,
                "code": ind.code,
                "name": ind.name,
                "points": round(points, 2),
                "records": found,
                "note": "；".join(notes) or None,
            }
        )
    return out


def _dataset_name(catalog: Catalog, code: str) -> str:
    ds = catalog.datasets.get(code)
    return ds.name if ds is not None else code


def _grade_on(
    conn: Connection,
    catalog: Catalog,
    model: EvaluationModel,
    subject_id: int,
    on: date,
    exclude: tuple[int, ...] = (),
) -> dict[str, Any]:
    found = scored(catalog, model, on, subject_id=subject_id, exclude=exclude)
    row = conn.execute(found.statement, found.params).first()
    if row is None:  # no longer scored (e.g. deregistered)
        return {"grade": None, "class": None, "score": None}
    return {"grade": row.grade, "class": row._mapping["class"], "score": round(row.score, 2)}


def what_would_change(
    conn: Connection,
    catalog: Catalog,
    model: EvaluationModel,
    result: Result,
    rows: list[Any] | None = None,
) -> list[dict[str, Any]]:
    """Dated changes ahead of the run's day: when a counted record or a listing stops counting,
    and from when a record may be repaired; each with the grade the subject would then have
    (all else as now). Only changes that move the grade, class or score are listed."""
    on = result.run.as_of
    if rows is None:
        rows = _behind(conn, catalog, model, result)
    ids = [r.record_id for r in rows]
    full = {
        r.id: dict(r._mapping)
        for r in conn.execute(select(records).where(records.c.id.in_(ids or [-1])))
    }
    events: list[tuple[date, str, int, str]] = []  # (day, kind, record, what)
    for row in rows:
        negative = (row.pts is not None and row.pts < 0) or any(
            getattr(row, f"h{k}") for k in range(len(model.hard_rules))
        )
        if not negative:  # a reward ending or a licence ageing is not what the subject asks
            continue
        ends = [d for d in (row.publicity_max_end, row.valid_until) if d is not None]
        if ends:
            events.append((min(ends) + timedelta(days=1), "expire", row.record_id, "期满停止计分"))
        if row.record_id in full:
            found = eligibility(catalog, full[row.record_id], on)
            if found.repairable and found.from_date is not None:
                day = max(found.from_date, on)
                events.append((day, "repair", row.record_id, "可申请信用修复，修复后"))
    changes: list[dict[str, Any]] = []
    now = {"grade": result.grade, "class": result.klass, "score": round(result.score, 2)}
    tried = 0
    for day, kind, record_id, what in sorted(events):
        # each "then" is one scoring statement: a bounded number keeps the answer fast
        if day > on + timedelta(days=HORIZON_DAYS) or tried >= MAX_CHANGES:
            break
        tried += 1
        if kind == "expire":
            then = _grade_on(conn, catalog, model, result.subject_id, day)
        else:
            then = _grade_on(conn, catalog, model, result.subject_id, day, (record_id,))
        if then == now:
            continue
        changes.append(
            {
                "on": day.isoformat(),
                "kind": kind,
                "record_id": record_id,
                "dataset_name": _dataset_name(catalog, full[record_id]["dataset"])
                if record_id in full
                else None,
                "what": what,
                **{f"{k}_then": v for k, v in then.items()},
            }
        )
    return changes


def _figure(c: Criterion, value: Any) -> str:
    if value is None:
        return "无数据"
    if isinstance(value, str):
        return value
    if c.none is not None:
        return f"{int(value)} 条"
    if c.percent:
        return f"{float(value) * 100:.1f}%"
    return f"{float(value):g}"


def rating_explained(
    conn: Connection, catalog: Catalog, model: RatingModel, result: Result
) -> dict[str, Any]:
    """A rating's criteria with their figures for the run's day (the member runs the run read),
    met or not, and what the unit still lacks to pass."""
    members = run_members(conn, result.run)
    if members is None:
        members = member_runs(conn, model)
    found = statement(
        conn, catalog, model, result.run.as_of, subject_id=result.subject_id, members=members
    )
    row = conn.execute(found.statement, found.params).first()
    values = row._mapping if row is not None else {}
    criteria = []
    for k, c in enumerate(model.criteria):
        figure = values.get(f"f{k}")
        a, b = values.get(f"a{k}"), values.get(f"b{k}")
        counts = None
        if c.share is not None and b is not None:
            counts = f"{int(a or 0)}/{int(b)}"
        elif c.ratio is not None and a is not None and b is not None:
            counts = f"{float(a):g}/{float(b):g}"
        criteria.append(
            {
                "code": c.code,
                "name": c.name,
                "kind": c.kind,
                "figure": round(figure, 4) if isinstance(figure, float) else figure,
                "figure_text": _figure(c, figure) + (f"（{counts}）" if counts else ""),
                "threshold": c.threshold_text(),
                "met": bool(values.get(f"m{k}")),
                "note": c.note,
            }
        )
    lacking = [
        f"{c['name']}{c['threshold']}（现为{c['figure_text']}）" for c in criteria if not c["met"]
    ]
    return {
        "criteria": criteria,
        "criteria_met": sum(1 for c in criteria if c["met"]),
        "criteria_total": len(criteria),
        "members": members,
        "passed": model.passed.label,
        # what would change the grade: meeting every criterion not yet met
        "to_pass": lacking,
    }


def subject_code(conn: Connection, subject_id: int) -> str | None:
    row = conn.execute(
        select(subjects.c.uscc, subjects.c.id_number).where(subjects.c.id == subject_id)
    ).first()
    return (row.uscc or row.id_number) if row is not None else None
