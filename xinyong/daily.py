"""What a step of ``xinyong daily`` is given (:class:`DailyRun`) and its shape (``DailyStep``).

Below every package, so that any package can write a step; the steps themselves are listed,
in order, in ``xinyong.jobs``, which runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from xinyong.settings import get_settings


@dataclass(frozen=True)
class DailyRun:
    as_of: date  # the day the run is for: ends before it are past
    now: datetime  # the time written on changed rows and history (UTC)
    actor: str
    role: str = "operator"
    source: str | None = None
    # the catalogue in use (the working-day calendar lives in it)
    catalog_dir: Path = field(default_factory=lambda: get_settings().catalog_dir)
    # what a step tells the operators (printed by the command, kept in the audit event)
    warnings: list[str] = field(default_factory=list)
    # where the open-data downloads are built (``xinyong daily``: <data_dir>/opendata); None:
    # the run builds none (a test's or a script's run_daily)
    opendata_dir: Path | None = None
    # what a step found in the data for operators to follow up (a silent department, say):
    # not a problem of the run itself, so kept apart from the warnings
    findings: list[str] = field(default_factory=list)


DailyStep = Callable[[Connection, DailyRun], dict[str, int]]
