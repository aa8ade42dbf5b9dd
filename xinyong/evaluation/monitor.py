"""Monitoring of a model's runs (评价监测): the grade distribution of a run, overall and by
industry and district, and its population stability index (PSI) against the previous full run,
with an alert where it exceeds the model's ``psi_alert``. A jump means the grades moved for a
population, through data (a department's big delivery) or through the model: an operator
looks before the grades are used.

PSI = Σ (a − e) · ln(a / e) over the grades, a and e the shares in this and the previous run;
empty grades take a small share (0.0001) so that the logarithm stays finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from xinyong.catalog.loader import Catalog
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.models import evaluation_results, evaluation_runs
from xinyong.evaluation.runs import FULL, Run, current_run, get_run

EMPTY_SHARE = 0.0001
UNKNOWN = "未知"


def psi(now: dict[str, int], before: dict[str, int], grades: list[str]) -> float | None:
    n, m = sum(now.values()), sum(before.values())
    if not n or not m:
        return None
    total = 0.0
    for g in grades:
        a = max(now.get(g, 0) / n, EMPTY_SHARE)
        e = max(before.get(g, 0) / m, EMPTY_SHARE)
        total += (a - e) * math.log(a / e)
    return total


@dataclass
class Distribution:
    run: Run
    previous: Run | None
    grades: list[str]
    overall: dict[str, int]
    by: dict[str, dict[str, dict[str, int]]]  # industry/district → group → grade → count
    psi: float | None
    psi_by: dict[str, dict[str, float | None]] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run.as_dict(),
            "previous": self.previous.as_dict() if self.previous else None,
            "grades": self.grades,
            "overall": self.overall,
            "by": self.by,
            "psi": self.psi,
            "psi_by": self.psi_by,
            "alerts": self.alerts,
        }


def _counts(conn: Connection, run_id: int, column: Any | None) -> dict[str, dict[str, int]]:
    key = func.coalesce(column, UNKNOWN) if column is not None else None
    cols = [key.label("g")] if key is not None else []
    rows = conn.execute(
        select(*cols, evaluation_results.c.grade, func.count().label("n"))
        .where(evaluation_results.c.run_id == run_id)
        .group_by(*([key] if key is not None else []), evaluation_results.c.grade)
    )
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        group = row.g if key is not None else ""
        out.setdefault(group, {})[row.grade] = int(row.n)
    return out


def previous_run(conn: Connection, run: Run) -> Run | None:
    prev = conn.execute(
        select(func.max(evaluation_runs.c.id)).where(
            evaluation_runs.c.model == run.model,
            evaluation_runs.c.scope == FULL,
            evaluation_runs.c.id < run.id,
        )
    ).scalar()
    return get_run(conn, prev) if prev is not None else None


def distribution(
    conn: Connection, catalog: Catalog, model_code: str, *, run_id: int | None = None
) -> Distribution:
    model = model_book(catalog).get(model_code)
    run = get_run(conn, run_id) if run_id is not None else current_run(conn, model.code)
    prev = previous_run(conn, run)
    grades = [g.code for g in model.grades]
    overall = _counts(conn, run.id, None).get("", {})
    before = _counts(conn, prev.id, None).get("", {}) if prev else {}
    dist = Distribution(run, prev, grades, overall, {}, psi(overall, before, grades))
    for name, column in (
        ("industry", evaluation_results.c.industry),
        ("district", evaluation_results.c.district),
    ):
        now = _counts(conn, run.id, column)
        dist.by[name] = now
        if prev is None:
            continue
        old = _counts(conn, prev.id, column)
        dist.psi_by[name] = {g: psi(now[g], old.get(g, {}), grades) for g in sorted(now)}
    label = {"industry": "行业", "district": "区域"}
    if dist.psi is not None and dist.psi > model.psi_alert:
        dist.alerts.append(f"整体等级分布稳定性指数 PSI={dist.psi:.3f}，超过阈值 {model.psi_alert}")
    for name, values in dist.psi_by.items():
        for group, value in values.items():
            if value is not None and value > model.psi_alert:
                dist.alerts.append(
                    f"{label[name]} {group} 的 PSI={value:.3f}，超过阈值 {model.psi_alert}"
                )
    return dist
