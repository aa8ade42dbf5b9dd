"""The one composition point for work other packages contribute: the steps run after every
batch and the steps of ``xinyong daily``, each an explicit list, in the order they run.

After a batch: inside the batch's transaction, once its records are stored, each step works
set-based over the batch (``records.batch_id``): list entries and exits,
notifications to subscribed departments. A step may return warnings for the receipt; an
exception rolls the whole batch back like any other failure.

``xinyong daily``: each step is set-based SQL over the whole table (never a loop over rows),
inside the caller's transaction, and idempotent: run twice for the same day, the second run
changes nothing. The run appends one audit event (``daily.run``) with every step's counts.

Adding a step:

1. write it in your package: after a batch ``(conn, dataset, batch_id) -> [(row, Problem)]``;
   daily ``(conn, run: xinyong.daily.DailyRun) -> {"exited": 12}`` (it changes what is due on
   ``run.as_of`` and records state changes in history as ``expire_publicity`` does);
2. add it to ``AFTER_BATCH`` or ``DAILY_STEPS`` below.

This module imports every contributing package, and only the ingestion and the delivery
layers import it (``docs/architecture.md``): no step needs a deferred import or a path string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from xinyong import clock
from xinyong.assessment.monitoring import monitoring_step
from xinyong.audit import service as audit
from xinyong.batches.problems import CheckedRow, Problem
from xinyong.cases.deadlines import recompute_step as recompute_case_deadlines
from xinyong.catalog.schema import Dataset
from xinyong.checks.deadline import recompute_step
from xinyong.daily import DailyRun, DailyStep
from xinyong.disclosure.daily import expire_publicity
from xinyong.evaluation.service import daily_step as evaluation_step
from xinyong.exchange.feed import capture_batch, capture_daily
from xinyong.exchange.verify import overdue_step
from xinyong.lists.expiry import expire_lists
from xinyong.lists.ingest_step import record_list_changes, refuse_conflicts
from xinyong.notifications.subscriptions import notify_new_records
from xinyong.opendata.build import daily_step as opendata_step
from xinyong.settings import get_settings
from xinyong.workdays.alerts import calendar_step

# (connection, dataset, batch id) -> warnings as (row number, problem)
AfterBatch = Callable[[Connection, Dataset, int], list[tuple[int, Problem]]]

# capture_batch last: it numbers what the steps before it changed too (list entries). The
# publicity periods are not a step: ingestion writes them with each record
# (disclosure.assign.BatchPublicity), and the list step below reads them.
AFTER_BATCH: tuple[AfterBatch, ...] = (
    record_list_changes,
    notify_new_records,
    capture_batch,
)

# (connection, dataset, rows) -> None: row checks that need the database and the rows' linked
# subjects, run on each chunk after linking and before storing; a failing row gets its Problem
# and is rejected like any other (red-list entries refused by the conflict rules).
BeforeStore = Callable[[Connection, Dataset, list[CheckedRow]], None]

BEFORE_STORE: tuple[BeforeStore, ...] = (refuse_conflicts,)

# (step name, step), run in this order; the name keys the step's counts in the result
DAILY_STEPS: tuple[tuple[str, DailyStep], ...] = (
    ("publicity.expiry", expire_publicity),
    ("lists.expiry", expire_lists),
    ("calendar.provisional", recompute_step),
    ("cases.provisional", recompute_case_deadlines),
    ("calendar.next_year", calendar_step),
    # after the expiries above, so that the day's changes are numbered the same day
    ("exchange.changes", capture_daily),
    ("exchange.verify_overdue", overdue_step),
    ("opendata.build", opendata_step),
    ("monitoring.flags", monitoring_step),
    # last: scores what the steps above left in force today
    ("evaluation.rerun", evaluation_step),
)


def before_store(conn: Connection, dataset: Dataset, rows: list[CheckedRow]) -> None:
    for step in BEFORE_STORE:
        step(conn, dataset, rows)


def after_batch(conn: Connection, dataset: Dataset, batch_id: int) -> list[tuple[int, Problem]]:
    warnings: list[tuple[int, Problem]] = []
    for step in AFTER_BATCH:
        warnings.extend(step(conn, dataset, batch_id))
    return warnings


@dataclass
class DailyResult:
    as_of: date
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "steps": self.steps,
            "warnings": self.warnings,
            "findings": self.findings,
        }


def run_daily(
    conn: Connection,
    *,
    as_of: date,
    actor: str,
    role: str = "operator",
    source: str | None = None,
    now: datetime | None = None,
    catalog_dir: Path | None = None,
    opendata_dir: Path | None = None,
) -> DailyResult:
    """Run every daily step for ``as_of``; the caller commits."""
    run = DailyRun(
        as_of,
        now or clock.now(conn),
        actor,
        role,
        source,
        catalog_dir=catalog_dir or get_settings().catalog_dir,
        opendata_dir=opendata_dir,
    )
    result = DailyResult(as_of)
    for name, step in DAILY_STEPS:
        result.steps[name] = step(conn, run)
    result.warnings = run.warnings
    result.findings = run.findings
    audit.append(
        conn,
        actor=actor,
        role=role,
        action="daily.run",
        source=source,
        detail=result.as_dict(),
    )
    return result
