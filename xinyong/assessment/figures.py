"""The raw figures of the assessment, per department, each a grouped query over the whole
period (never a loop over records): the working-day arithmetic runs once per distinct
(decision date, day received) pair, not per record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, or_, select

from xinyong.batches.models import batches
from xinyong.cases import states as case_states
from xinyong.cases.kinds import OBJECTION
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.checks.models import check_measures, checks
from xinyong.clock import CHINA
from xinyong.db import beijing_date
from xinyong.errors import XinyongError
from xinyong.records.keys import show_key
from xinyong.records.models import records
from xinyong.workdays.calendar import WorkCalendar

# outcomes of an objection that say the department's record was wrong
UPHELD_AGAINST = ("corrected", "partly_corrected")


@dataclass(frozen=True)
class Period:
    """A calendar month in Beijing time, ``[start, end)``."""

    start: date
    end: date

    @classmethod
    def month(cls, text: str) -> Period:
        try:
            year, month = (int(p) for p in text.strip().split("-"))
            start = date(year, month, 1)
        except ValueError as exc:
            raise XinyongError(
                "ASSESSMENT_PERIOD_INVALID", f"考核期间须写作 年-月，如 2026-11（收到：{text}）"
            ) from exc
        end = date(year + (month == 12), month % 12 + 1, 1)
        return cls(start, end)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def utc(self) -> tuple[datetime, datetime]:
        """The period's bounds as UTC instants, for timestamp columns."""
        return tuple(  # type: ignore[return-value]
            datetime.combine(d, time(), CHINA).astimezone(UTC) for d in (self.start, self.end)
        )


@dataclass
class Ratio:
    """A rate's parts for one department, with the examples a reason names."""

    good: int = 0
    total: int = 0
    penalty: float = 0.0  # taken off the rate (objections upheld against the department)
    examples: list[str] = field(default_factory=list)
    note: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        if self.total == 0:
            return None
        return max(0.0, self.good / self.total - self.penalty)


Figures = dict[str, Ratio]  # by department USCC

EXAMPLES = 5


@dataclass(frozen=True)
class Received:
    """Records first received in the period, counted per department, dataset, decision date
    and day received: one scan of the month serves timeliness and linking alike."""

    dept_uscc: str
    dataset: str
    decision_date: date | None
    received_on: date
    n: int
    linked: int


def received(conn: Connection, period: Period) -> list[Received]:
    lo, hi = period.utc()
    day = beijing_date(conn, records.c.created_at)
    linked = func.sum(case((records.c.subject_id.is_not(None), 1), else_=0))
    q = (
        select(
            records.c.dept_uscc,
            records.c.dataset,
            records.c.decision_date,
            day.label("received_on"),
            func.count().label("n"),
            linked.label("linked"),
        )
        .where(records.c.created_at >= lo, records.c.created_at < hi)
        .group_by(records.c.dept_uscc, records.c.dataset, records.c.decision_date, day)
    )
    return [
        Received(
            r.dept_uscc,
            r.dataset,
            None if r.decision_date is None else _as_date(r.decision_date),
            _as_date(r.received_on),
            int(r.n),
            int(r.linked or 0),
        )
        for r in conn.execute(q)
    ]


def timeliness(
    rows: list[Received],
    calendar: WorkCalendar,
    datasets: tuple[str, ...],
    within: int,
) -> Figures:
    """Records of ``datasets`` first received in the period, on time when received no later
    than ``within`` working days after the decision (国办发〔2015〕51号: 7)."""
    out: Figures = defaultdict(Ratio)
    due: dict[date, date] = {}
    for r in rows:
        if r.dataset not in datasets or r.decision_date is None:
            continue
        if r.decision_date not in due:
            due[r.decision_date] = calendar.add_working_days(r.decision_date, within).day
        ratio = out[r.dept_uscc]
        ratio.total += r.n
        ratio.good += 0 if r.received_on > due[r.decision_date] else r.n
    return dict(out)


def late_records(
    conn: Connection,
    calendar: WorkCalendar,
    period: Period,
    datasets: tuple[str, ...],
    within: int,
    dept_uscc: str,
    catalog: Catalog,
) -> list[dict[str, Any]]:
    """Every record of one department received in the period past its deadline, named by
    its dataset and key, with the working days it took."""
    lo, hi = period.utc()
    received = beijing_date(conn, records.c.created_at)
    q = (
        select(
            records.c.id,
            records.c.dataset,
            records.c.natural_key,
            records.c.decision_date,
            received.label("received_on"),
        )
        .where(
            records.c.dept_uscc == dept_uscc,
            records.c.dataset.in_(datasets),
            records.c.created_at >= lo,
            records.c.created_at < hi,
            records.c.decision_date.is_not(None),
        )
        .order_by(records.c.decision_date, records.c.id)
    )
    out = []
    due: dict[date, date] = {}
    for r in conn.execute(q):
        decided, got = _as_date(r.decision_date), _as_date(r.received_on)
        if decided not in due:
            due[decided] = calendar.add_working_days(decided, within).day
        if got > due[decided]:
            ds = catalog.datasets.get(r.dataset)
            out.append(
                {
                    "record_id": r.id,
                    "dataset": r.dataset,
                    "dataset_name": ds.name if ds else r.dataset,
                    "key": show_key(r.natural_key),
                    "decision_date": decided.isoformat(),
                    "due": due[decided].isoformat(),
                    "received_on": got.isoformat(),
                    "working_days": calendar.working_days_between(decided, got),
                }
            )
    return out


def linking(rows: list[Received]) -> Figures:
    """Records first received in the period that are linked to a subject (not pending)."""
    out: Figures = defaultdict(Ratio)
    for r in rows:
        ratio = out[r.dept_uscc]
        ratio.total += r.n
        ratio.good += r.linked
        ratio.note["pending"] = ratio.note.get("pending", 0) + r.n - r.linked
    return dict(out)


def acceptance(conn: Connection, period: Period, penalty_per_upheld: float) -> Figures:
    """Rows stored among rows delivered in the period; objections upheld against the
    department (closed in the period) each take ``penalty_per_upheld`` off."""
    lo, hi = period.utc()
    q = (
        select(
            batches.c.dept_uscc,
            func.sum(batches.c.received).label("received"),
            func.sum(batches.c.rejected).label("rejected"),
            func.count().label("batches"),
        )
        .where(batches.c.received_at >= lo, batches.c.received_at < hi)
        .group_by(batches.c.dept_uscc)
    )
    out: Figures = {}
    for r in conn.execute(q):
        received, rejected = int(r.received or 0), int(r.rejected or 0)
        out[r.dept_uscc] = Ratio(
            good=received - rejected,
            total=received,
            note={"rejected": rejected, "batches": int(r.batches), "upheld_objections": 0},
        )
    upheld = conn.execute(
        select(cases.c.dept_uscc, func.count().label("n"))
        .where(
            cases.c.kind == OBJECTION,
            cases.c.outcome.in_(UPHELD_AGAINST),
            cases.c.closed_at >= lo,
            cases.c.closed_at < hi,
            cases.c.dept_uscc.is_not(None),
        )
        .group_by(cases.c.dept_uscc)
    )
    for r in upheld:
        ratio = out.setdefault(r.dept_uscc, Ratio(note={"rejected": 0, "batches": 0}))
        ratio.note["upheld_objections"] = int(r.n)
        ratio.penalty = penalty_per_upheld * int(r.n)
    return out


def deliveries(conn: Connection, start: date, end: date) -> set[tuple[str, str]]:
    """(department, dataset) pairs with at least one delivery in ``[start, end)``."""
    lo, hi = Period(start, end).utc()
    q = (
        select(batches.c.dept_uscc, batches.c.dataset)
        .where(batches.c.received_at >= lo, batches.c.received_at < hi)
        .group_by(batches.c.dept_uscc, batches.c.dataset)
    )
    return {(r.dept_uscc, r.dataset) for r in conn.execute(q)}


def feedback(conn: Connection, calendar: WorkCalendar, period: Period) -> Figures:
    """Measures of the department's checks whose feedback fell due in the period, answered by
    the deadline; the late ones' delay in working days (to the answer, or to the period's end)."""
    answered_on = beijing_date(conn, check_measures.c.feedback_at)
    q = (
        select(
            checks.c.dept_uscc,
            checks.c.deadline,
            answered_on.label("answered_on"),
            func.count().label("n"),
        )
        .select_from(check_measures.join(checks, checks.c.id == check_measures.c.check_id))
        .where(
            checks.c.deadline >= period.start,
            checks.c.deadline < period.end,
            checks.c.dept_uscc.is_not(None),
        )
        .group_by(checks.c.dept_uscc, checks.c.deadline, answered_on)
    )
    out: Figures = defaultdict(Ratio)
    for r in conn.execute(q):
        deadline = _as_date(r.deadline)
        got = _as_date(r.answered_on) if r.answered_on is not None else None
        ratio = out[r.dept_uscc]
        ratio.total += r.n
        if got is not None and got <= deadline:
            ratio.good += r.n
            continue
        delay = calendar.working_days_between(deadline, got or period.last_day)
        ratio.note["late"] = ratio.note.get("late", 0) + r.n
        ratio.note["unanswered"] = ratio.note.get("unanswered", 0) + (r.n if got is None else 0)
        ratio.note["delay_days"] = ratio.note.get("delay_days", 0) + delay * r.n
    return dict(out)


def case_handling(conn: Connection, period: Period) -> Figures:
    """The department's cases closed in the period on time, and its cases still open at the
    period's end past their deadline (counted late)."""
    lo, hi = period.utc()
    closed = conn.execute(
        select(
            cases.c.dept_uscc,
            func.count().label("n"),
            func.sum(case((cases.c.closed_on_time.is_(True), 1), else_=0)).label("on_time"),
        )
        .where(
            cases.c.closed_at >= lo,
            cases.c.closed_at < hi,
            cases.c.dept_uscc.is_not(None),
            cases.c.outcome != "withdrawn",
        )
        .group_by(cases.c.dept_uscc)
    )
    out: Figures = defaultdict(Ratio)
    for r in closed:
        out[r.dept_uscc].total += int(r.n)
        out[r.dept_uscc].good += int(r.on_time or 0)
    overdue = conn.execute(
        select(cases.c.dept_uscc, func.count().label("n"), func.min(cases.c.case_no).label("no"))
        .where(
            or_(cases.c.state.in_(tuple(case_states.OPEN_STATES)), cases.c.closed_at >= hi),
            cases.c.deadline < period.end,
            cases.c.received_on < period.end,
            cases.c.dept_uscc.is_not(None),
        )
        .group_by(cases.c.dept_uscc)
    )
    for r in overdue:
        ratio = out[r.dept_uscc]
        ratio.total += int(r.n)
        ratio.note["overdue_open"] = int(r.n)
        ratio.examples.append(r.no)
    return dict(out)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
