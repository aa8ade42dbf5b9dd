"""Assessing every department for a month (部门考核) and publishing the result as a 通报.

``assess`` reads the figures (``figures.py``), turns each into a rate, weighs the rates by
``catalog/assessment.yaml`` into a score out of 100, ranks the departments and gives each the
reasons it lost points, in Chinese, naming what was late or missing. ``publish`` stores one
assessment as it was computed (a later correction of the data does not rewrite a published
通报) and the portal shows the published ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.assessment import figures
from xinyong.assessment.figures import Figures, Period, Ratio
from xinyong.assessment.models import assessment_reports
from xinyong.assessment.rules import Indicator, Rules, rules_of
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.departments import service as departments
from xinyong.errors import NotFound
from xinyong.workdays.calendar import WorkCalendar

# which expected periods fall due within a monthly assessment, and over which window
_MONTHLY = ("day", "week", "month")
_QUARTER_ENDS = (3, 6, 9, 12)


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    name: str
    weight: float
    target: float
    rate: float | None  # None: nothing to measure for this department (不参与计分)
    good: int
    total: int
    reason: str | None  # why points were lost, when the rate is below the target

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "weight": self.weight,
            "target": self.target,
            "rate": None if self.rate is None else round(self.rate, 4),
            "good": self.good,
            "total": self.total,
            "reason": self.reason,
        }


@dataclass
class DeptResult:
    uscc: str
    name: str
    score: float | None
    grade: str
    indicators: list[IndicatorResult]
    rank: int = 0

    @property
    def reasons(self) -> list[str]:
        return [f"{i.name}：{i.reason}" for i in self.indicators if i.reason]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "uscc": self.uscc,
            "name": self.name,
            "score": self.score,
            "grade": self.grade,
            "reasons": self.reasons,
            "indicators": [i.as_dict() for i in self.indicators],
        }


@dataclass
class Assessment:
    period: str
    computed_at: datetime
    departments: list[DeptResult] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "computed_at": self.computed_at.isoformat(),
            "indicators": self.indicators,
            "departments": [d.as_dict() for d in self.departments],
        }


def rules_for(catalog: Catalog) -> Rules:
    return rules_of(Path(catalog.root), frozenset(catalog.datasets))


def assess(
    conn: Connection, catalog: Catalog, calendar: WorkCalendar, period: Period
) -> Assessment:
    """Every enabled department's score for ``period``, ranked, with reasons."""
    rules = rules_for(catalog)
    depts = departments.all_departments(conn, enabled_only=True)
    rows = figures.received(conn, period)
    measured: dict[str, Figures] = {
        ind.code: _figures(conn, catalog, calendar, period, ind, depts, rows)
        for ind in rules.indicators
    }
    results = []
    for dept in depts.values():
        indicators = [
            _result(ind, measured[ind.code].get(dept.uscc), catalog) for ind in rules.indicators
        ]
        applicable = [i for i in indicators if i.rate is not None]
        weight = sum(i.weight for i in applicable)
        score = (
            round(100 * sum(i.weight * (i.rate or 0.0) for i in applicable) / weight, 1)
            if weight
            else None
        )
        grade = rules.grade(score) if score is not None else "无考核数据"
        results.append(DeptResult(dept.uscc, dept.name, score, grade, indicators))
    _rank(results)
    return Assessment(
        period=period.label,
        computed_at=clock.now(conn),
        departments=results,
        indicators=[
            {
                "code": i.code,
                "name": i.name,
                "weight": i.weight,
                "target": i.target,
                "basis": i.basis,
            }
            for i in rules.indicators
        ],
    )


def _rank(results: list[DeptResult]) -> None:
    """Highest score first; equal scores share a rank; departments without data come last."""
    results.sort(key=lambda d: (d.score is None, -(d.score or 0.0), d.name))
    previous: float | None = None
    for n, dept in enumerate(results, start=1):
        if dept.score is None:
            dept.rank = 0
            continue
        dept.rank = results[n - 2].rank if n > 1 and dept.score == previous else n
        previous = dept.score


def _figures(
    conn: Connection,
    catalog: Catalog,
    calendar: WorkCalendar,
    period: Period,
    ind: Indicator,
    depts: dict[str, departments.Department],
    received: list[figures.Received],
) -> Figures:
    if ind.kind == "timeliness":
        assert ind.within_working_days is not None  # the rules' validator guarantees it
        return figures.timeliness(received, calendar, ind.datasets, ind.within_working_days)
    if ind.kind == "linking":
        return figures.linking(received)
    if ind.kind == "acceptance":
        return figures.acceptance(conn, period, ind.penalty_per_upheld_objection)
    if ind.kind == "regularity":
        return regularity(conn, catalog, period, depts)
    if ind.kind == "feedback":
        return figures.feedback(conn, calendar, period)
    return figures.case_handling(conn, period)


def regularity(
    conn: Connection,
    catalog: Catalog,
    period: Period,
    depts: dict[str, departments.Department],
) -> Figures:
    """Of the datasets each department may deliver whose expected period falls due in the
    month (daily, weekly, monthly; quarterly in a quarter's last month), those delivered."""
    monthly = figures.deliveries(conn, period.start, period.end)
    quarterly: set[tuple[str, str]] = set()
    if period.start.month in _QUARTER_ENDS:
        quarter_start = period.start.replace(month=period.start.month - 2)
        quarterly = figures.deliveries(conn, quarter_start, period.end)
    out: Figures = {}
    for dept in depts.values():
        ratio = Ratio()
        for code in dept.datasets:
            ds = catalog.datasets.get(code)
            if ds is None or ds.expected.period is None:
                continue
            if ds.expected.period in _MONTHLY:
                delivered = (dept.uscc, code) in monthly
            elif ds.expected.period == "quarter" and period.start.month in _QUARTER_ENDS:
                delivered = (dept.uscc, code) in quarterly
            else:
                continue
            ratio.total += 1
            ratio.good += delivered
            if not delivered:
                ratio.examples.append(ds.name)
        if ratio.total:
            out[dept.uscc] = ratio
    return out


def _result(ind: Indicator, ratio: Ratio | None, catalog: Catalog) -> IndicatorResult:
    rate = ratio.rate if ratio else None
    reason = None
    if ratio is not None and rate is not None and rate < ind.target:
        reason = _reason(ind, ratio, rate)
    return IndicatorResult(
        code=ind.code,
        name=ind.name,
        weight=ind.weight,
        target=ind.target,
        rate=rate,
        good=ratio.good if ratio else 0,
        total=ratio.total if ratio else 0,
        reason=reason,
    )


def _reason(ind: Indicator, ratio: Ratio, rate: float) -> str:
    bad = ratio.total - ratio.good
    share = f"{rate:.1%}（目标 {ind.target:.0%}）"
    note = ratio.note
    if ind.kind == "timeliness":
        return (
            f"{share}，{bad} 条记录超过决定之日起 {ind.within_working_days} 个工作日才报送"
            "（逐条清单：xinyong assess late）"
        )
    if ind.kind == "linking":
        return f"{share}，{note.get('pending', bad)} 条记录缺少可关联的主体代码，仍待关联"
    if ind.kind == "acceptance":
        parts = [f"{share}，退回 {note.get('rejected', 0)} 行"]
        if note.get("upheld_objections"):
            parts.append(f"异议成立（予以更正）{note['upheld_objections']} 件")
        return "，".join(parts)
    if ind.kind == "regularity":
        return f"{share}，本期未报送：{'、'.join(ratio.examples)}"
    if ind.kind == "feedback":
        late = note.get("late", bad)
        average = note.get("delay_days", 0) / late if late else 0
        unanswered = note.get("unanswered", 0)
        return (
            f"{share}，{late} 项措施未在期限内反馈（其中未反馈 {unanswered} 项），"
            f"平均超期 {average:.1f} 个工作日"
        )
    examples = f"（如 {'、'.join(ratio.examples)}）" if ratio.examples else ""
    return f"{share}，{bad} 件办件超过办理期限{examples}"


# -- the published 通报 ----------------------------------------------------------------------


def publish(
    conn: Connection,
    principal: Principal,
    catalog: Catalog,
    calendar: WorkCalendar,
    period: Period,
    *,
    note: str = "",
) -> dict[str, Any]:
    """Compute the month's assessment and publish it as a 通报 on the portal (operators)."""
    require_role(principal, Role.OPERATOR)
    result = assess(conn, catalog, calendar, period)
    now = clock.now(conn)
    body = result.as_dict()
    report_id = conn.execute(
        insert(assessment_reports)
        .values(
            period=period.label,
            body=body,
            note=note.strip()[:2000],
            published_at=now,
            published_by=principal.name,
        )
        .returning(assessment_reports.c.id)
    ).scalar_one()
    audit.append_for(
        conn,
        principal,
        "assessment.publish",
        detail={
            "period": period.label,
            "report_id": report_id,
            "departments": len(body["departments"]),
        },
    )
    return {"id": report_id, "period": period.label, "published_at": now.isoformat(), **body}


def published(conn: Connection) -> list[dict[str, Any]]:
    """The published 通报, newest period first; a period published again shows its latest."""
    latest = select(func.max(assessment_reports.c.id)).group_by(assessment_reports.c.period)
    rows = conn.execute(
        select(
            assessment_reports.c.id,
            assessment_reports.c.period,
            assessment_reports.c.published_at,
            assessment_reports.c.note,
        )
        .where(assessment_reports.c.id.in_(latest))
        .order_by(assessment_reports.c.period.desc())
    )
    return [dict(r._mapping) for r in rows]


def published_report(conn: Connection, period: str) -> dict[str, Any]:
    row = conn.execute(
        select(assessment_reports)
        .where(assessment_reports.c.period == Period.month(period).label)
        .order_by(assessment_reports.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound("ASSESSMENT_NOT_PUBLISHED", f"{period} 的考核通报尚未发布")
    return {
        "id": row.id,
        "period": row.period,
        "note": row.note,
        "published_at": row.published_at,
        **row.body,
    }
