"""What the delivery layers call: run a model, read a subject's result and its explanation,
the supervision class a check shows, monitoring. Authorisation here, never in the layers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.daily import DailyRun
from xinyong.errors import NotFound
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.explain import explain, headline
from xinyong.evaluation.monitor import Distribution, distribution
from xinyong.evaluation.runs import Run, due, list_runs, result_of, run_model

__all__ = ["daily_step", "evaluate", "explain", "monitor", "run_list", "supervision"]


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


def supervision(conn: Connection, catalog: Catalog, subject_id: int) -> list[dict[str, Any]]:
    """The supervision class (分类监管) of every model with classes that has a result for the
    subject, with the inspection advice: what a department's check shows beside its answer."""
    out = []
    for model in model_book(catalog).models.values():
        if not model.classes:
            continue
        try:
            result = result_of(conn, model.code, subject_id)
        except NotFound:
            continue
        head = headline(model, result)
        out.append(
            {
                k: head[k]
                for k in (
                    "model",
                    "model_name",
                    "as_of",
                    "grade",
                    "class",
                    "class_label",
                    "inspection_ratio",
                    "advice",
                )
            }
        )
    return out


def daily_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """``xinyong daily``: run again every model whose inputs changed since its last run."""
    catalog = load_catalog(run.catalog_dir)
    counts = {"models_run": 0, "subjects_scored": 0}
    for model in model_book(catalog).models.values():
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
) -> list[dict[str, Any]]:
    """Every model's result for the subject that the principal may see (a model that has not
    scored the subject, or shows the principal nothing, is left out)."""
    out = []
    for model in model_book(catalog).models.values():
        try:
            out.append(
                explain(conn, catalog, principal, model.code, subject_id, with_changes=with_changes)
            )
        except NotFound:
            continue
    return out


def models(catalog: Catalog) -> list[tuple[str, str]]:
    return [(m.code, m.name) for m in model_book(catalog).models.values()]
