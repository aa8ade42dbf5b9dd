"""What the delivery layers call: run a model, read a subject's result and its explanation,
the supervision class a check shows, monitoring. Authorisation here, never in the layers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.daily import DailyRun
from xinyong.db import rows_by_keys
from xinyong.errors import NotFound
from xinyong.evaluation.definitions import AnyModel, RatingModel, model_book
from xinyong.evaluation.explain import explain
from xinyong.evaluation.models import evaluation_current, evaluation_results, evaluation_runs
from xinyong.evaluation.monitor import Distribution, distribution
from xinyong.evaluation.runs import SUBJECT, Run, current_run, due, list_runs, run_model

__all__ = [
    "daily_step",
    "evaluate",
    "explain",
    "monitor",
    "run_list",
    "supervision",
    "supervision_advice",
]


def evaluate(
    conn: Connection, catalog: Catalog, principal: Principal, model_code: str, *, as_of: date | None
) -> Run:
    require_role(principal, Role.OPERATOR)
    model = model_book(catalog).get(model_code)
    return run_model(conn, catalog, model, as_of=as_of or clock.today(conn), actor=principal.name)


def monitor(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    model_code: str,
    *,
    run_id: int | None = None,
) -> Distribution:
    require_role(principal, Role.OPERATOR, Role.AUDITOR)
    return distribution(conn, catalog, model_code, run_id=run_id)


def run_list(
    conn: Connection, catalog: Catalog, principal: Principal, model_code: str
) -> list[Run]:
    require_role(principal, Role.OPERATOR, Role.AUDITOR)
    return list_runs(conn, model_book(catalog).get(model_code).code)


def supervision_of(
    conn: Connection, catalog: Catalog, subject_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """Set-based ``supervision`` for many subjects (bulk checks): per model with classes, the
    current run's results (amended by a subject's own re-run) in one keyed read."""
    wanted = sorted(set(subject_ids))
    out: dict[int, list[dict[str, Any]]] = {}
    for model in model_book(catalog).models.values():
        if not model.classes or not wanted:
            continue
        try:
            base = current_run(conn, model.code)
        except NotFound:
            continue
        found: dict[int, tuple[int, str | None]] = {}
        runs = select(evaluation_runs.c.id).where(
            or_(
                evaluation_runs.c.id == base.id,
                and_(
                    evaluation_runs.c.base_run_id == base.id,
                    evaluation_runs.c.scope == SUBJECT,
                ),
            )
        )
        cols = (
            evaluation_results.c.subject_id,
            evaluation_results.c.run_id,
            evaluation_results.c["class"],
        )
        for row in rows_by_keys(
            conn,
            cols,
            evaluation_results.c.subject_id,
            wanted,
            evaluation_results.c.run_id.in_(runs),
        ):
            if row.subject_id not in found or row.run_id > found[row.subject_id][0]:
                found[row.subject_id] = (row.run_id, row._mapping["class"])
        for sid, (_, code) in found.items():
            shown = _class_of(model, base.as_of, code)
            if shown is not None:
                out.setdefault(sid, []).append(shown)
    return out


def _class_of(model: AnyModel, as_of: date, code: str | None) -> dict[str, Any] | None:
    band = model.band(model.classes, code)
    if band is None:
        return None
    return {
        "model": model.code,
        "model_name": model.name,
        "as_of": as_of.isoformat(),
        "class": band.code,
        "class_label": band.label,
        "inspection_ratio": band.inspection_ratio,
        "advice": band.advice,
    }


# One subject's results in every model's current run, or in a re-run of that subject based on
# it, with the current run's day: what ``supervision_of`` reads in three statements per model,
# in one built once (every single check asks it).
_base = evaluation_runs.alias("base")
_run = evaluation_runs.alias("run")
_SUBJECT_RESULTS = (
    select(
        evaluation_current.c.model,
        _base.c.as_of,
        evaluation_results.c.run_id,
        evaluation_results.c["class"],
    )
    .select_from(
        evaluation_results.join(_run, _run.c.id == evaluation_results.c.run_id)
        .join(evaluation_current, evaluation_current.c.model == _run.c.model)
        .join(_base, _base.c.id == evaluation_current.c.run_id)
    )
    .where(
        evaluation_results.c.subject_id == bindparam("sid"),
        or_(
            _run.c.id == evaluation_current.c.run_id,
            and_(_run.c.base_run_id == evaluation_current.c.run_id, _run.c.scope == SUBJECT),
        ),
    )
)


def supervision(conn: Connection, catalog: Catalog, subject_id: int) -> list[dict[str, Any]]:
    """The supervision class (分类监管) of every model with classes that has a result for the
    subject, with the inspection advice (双随机 ratio): what a check shows beside its answer.
    The same answer as ``supervision_of`` for one subject, in one statement."""
    latest: dict[str, tuple[int, date, str | None]] = {}
    for row in conn.execute(_SUBJECT_RESULTS, {"sid": subject_id}):
        if row.model not in latest or row.run_id > latest[row.model][0]:
            latest[row.model] = (row.run_id, row.as_of, row._mapping["class"])
    if not latest:  # most subjects of a check: no model's current run has scored them
        return []
    out = []
    for model in model_book(catalog).models.values():
        if not model.classes or model.code not in latest:
            continue
        _, as_of, code = latest[model.code]
        shown = _class_of(model, as_of, code)
        if shown is not None:
            out.append(shown)
    return out


def supervision_text(found: list[dict[str, Any]]) -> str:
    """One line for a bulk check's file: 'A类（信用风险低，抽查3%）'."""
    parts = []
    for f in found:
        ratio = f"，抽查{f['inspection_ratio']:.0%}" if f["inspection_ratio"] is not None else ""
        parts.append(f"{f['class']}类（{f['class_label']}{ratio}）")
    return "；".join(parts)


def supervision_advice(found: list[dict[str, Any]]) -> str:
    """The inspection advice the model attaches to each class (分类监管: how often to inspect,
    the 双随机 ratio), one per model: 'A类：无事不扰：双随机抽查比例不高于3%…'. A bulk check's
    row carries it beside the class, as a single check's answer does."""
    return "；".join(f"{f['class']}类：{f['advice']}" for f in found if f.get("advice"))


def in_order(book: dict[str, AnyModel]) -> list[AnyModel]:
    """The models, each after the models whose results it reads (信用户 before 信用村 before
    信用乡镇), so that one daily run rates villages from the households rated that day."""
    done: dict[str, AnyModel] = {}

    def visit(model: AnyModel) -> None:
        if model.code in done:
            return
        if isinstance(model, RatingModel):
            for code in model.members_of():
                visit(book[code])
        done[model.code] = model

    for model in book.values():
        visit(model)
    return list(done.values())


def daily_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """``xinyong daily``: run again every model whose inputs changed since its last run."""
    catalog = load_catalog(run.catalog_dir)
    counts = {"models_run": 0, "subjects_scored": 0}
    for model in in_order(model_book(catalog).models):
        if due(conn, catalog, model, run.as_of):
            done = run_model(conn, catalog, model, as_of=run.as_of, actor=run.actor)
            counts["models_run"] += 1
            counts["subjects_scored"] += done.subjects
    return counts


def evaluations_of(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    *,
    with_changes: bool = True,
    purpose: str | None = None,
) -> list[dict[str, Any]]:
    """Every model's result for the subject that the principal may see (a model that has not
    scored the subject, or shows the principal nothing, is left out). A government reader
    sees them whole with a purpose only (``explain``); the caller audits the view."""
    out = []
    for model in model_book(catalog).models.values():
        try:
            out.append(
                explain(
                    conn,
                    catalog,
                    principal,
                    model.code,
                    subject_id,
                    with_changes=with_changes,
                    purpose=purpose,
                    audit=False,
                )
            )
        except NotFound:
            continue
    return out


def models(catalog: Catalog) -> list[tuple[str, str]]:
    return [(m.code, m.name) for m in model_book(catalog).models.values()]
