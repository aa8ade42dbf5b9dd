"""Data monitoring (数据监测): for every enabled department and each dataset it may deliver
whose catalogue entry declares an ``expected`` period, whether it has gone silent past that
period (plus its grace days) or delivered a volume outside the expected bounds in the last
period. Computed from the batches table in two grouped queries; shown on the operators'
dashboard and told by ``xinyong daily``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from xinyong.batches.models import batches
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.schema import PERIOD_DAYS, Dataset
from xinyong.clock import CHINA, aware
from xinyong.daily import DailyRun
from xinyong.departments import service as departments

PERIOD_LABELS = {
    "day": "每日",
    "week": "每周",
    "month": "每月",
    "quarter": "每季度",
    "year": "每年",
}
KIND_LABELS = {"silent": "逾期未报送", "low": "报送量偏低", "high": "报送量异常偏高"}


@dataclass(frozen=True)
class Flag:
    dept_uscc: str
    dept_name: str
    dataset: str
    dataset_name: str
    kind: str  # silent / low / high
    message: str
    last_delivery: date | None
    rows: int | None  # rows stored in the last period (volume flags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dept_uscc": self.dept_uscc,
            "dept_name": self.dept_name,
            "dataset": self.dataset,
            "dataset_name": self.dataset_name,
            "kind": self.kind,
            "kind_label": KIND_LABELS[self.kind],
            "message": self.message,
            "last_delivery": self.last_delivery.isoformat() if self.last_delivery else None,
            "rows": self.rows,
        }


def flags(conn: Connection, catalog: Catalog, as_of: date) -> list[Flag]:
    """What monitoring flags on ``as_of``, silent departments first."""
    last = {
        (r.dept_uscc, r.dataset): aware(r.last).astimezone(CHINA).date()  # type: ignore[union-attr]
        for r in conn.execute(
            select(
                batches.c.dept_uscc,
                batches.c.dataset,
                func.max(batches.c.received_at).label("last"),
            ).group_by(batches.c.dept_uscc, batches.c.dataset)
        )
    }
    longest = max(PERIOD_DAYS.values())
    lo = as_of - timedelta(days=longest)
    volumes: dict[tuple[str, str], list[tuple[date, int]]] = {}
    recent = select(
        batches.c.dept_uscc,
        batches.c.dataset,
        batches.c.received_at,
        (batches.c.received - batches.c.rejected).label("stored"),
    ).where(batches.c.received_at >= _utc_midnight(lo))
    for r in conn.execute(recent):
        day = aware(r.received_at).astimezone(CHINA).date()  # type: ignore[union-attr]
        volumes.setdefault((r.dept_uscc, r.dataset), []).append((day, int(r.stored)))
    out: list[Flag] = []
    for dept in departments.all_departments(conn, enabled_only=True).values():
        for code in dept.datasets:
            ds = catalog.datasets.get(code)
            if ds is None or ds.expected.period is None:
                continue
            seen = last.get((dept.uscc, code))
            found = _judge(dept.name, ds, seen, volumes.get((dept.uscc, code), []), as_of)
            if found is not None:
                kind, message, rows = found
                out.append(Flag(dept.uscc, dept.name, code, ds.name, kind, message, seen, rows))
    order = {"silent": 0, "low": 1, "high": 2}
    return sorted(out, key=lambda f: (order[f.kind], f.dept_name, f.dataset))


def _judge(
    dept_name: str,
    ds: Dataset,
    seen: date | None,
    deliveries: list[tuple[date, int]],
    as_of: date,
) -> tuple[str, str, int | None] | None:
    """(kind, message, rows) when the department's deliveries of ``ds`` need a flag."""
    exp = ds.expected
    assert exp.period is not None  # only datasets with a period are judged
    days = PERIOD_DAYS[exp.period]
    if seen is None or (as_of - seen).days > days + exp.grace_days:
        since = f"最近一次报送为 {seen.isoformat()}" if seen else "尚无报送记录"
        return "silent", f"{dept_name}：{ds.name}应{PERIOD_LABELS[exp.period]}报送，{since}", None
    window = as_of - timedelta(days=days)
    stored = sum(n for day, n in deliveries if day >= window)
    head = f"{dept_name}：{ds.name}近一期（{days} 天）入库 {stored} 条，"
    if exp.min_rows and stored < exp.min_rows:
        return "low", head + f"少于预期的 {exp.min_rows} 条", stored
    if exp.max_rows is not None and stored > exp.max_rows:
        return "high", head + f"超过预期的 {exp.max_rows} 条，请核实是否重复报送", stored
    return None


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA).astimezone(UTC)


def monitoring_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """The ``daily`` step: tell the operators of every flag (the command prints the findings
    and the audit event keeps them). It changes nothing, so a second run is the same."""
    found = flags(conn, load_catalog(run.catalog_dir), run.as_of)
    for f in found:
        run.findings.append(f.message)
    return {kind: sum(1 for f in found if f.kind == kind) for kind in ("silent", "low", "high")}
