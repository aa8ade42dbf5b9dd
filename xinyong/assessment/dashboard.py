"""The operators' dashboard (运行监测): deliveries per department and month, deliveries that
failed or came back with rejects (each with its receipt), list entries in force per list kind,
open and overdue cases per kind. Grouped queries only; each table also exports to Excel."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from xinyong.batches.models import batches, delivery_jobs
from xinyong.cases import states as case_states
from xinyong.cases.kinds import KINDS
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.cells import xlsx_text_row
from xinyong.clock import CHINA
from xinyong.db import beijing_date
from xinyong.departments import service as departments
from xinyong.exchange.models import exchange_packages
from xinyong.lists.models import list_entries

MONTHS = 12
RECENT_DAYS = 30


@dataclass(frozen=True)
class Table:
    """One table of the dashboard: its title, column headings and rows of plain values, the
    same for the page and the Excel export."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    links: list[str] | None = None  # per row: where its last cell leads (a receipt)


def _month_starts(as_of: date, months: int) -> list[date]:
    first = as_of.replace(day=1)
    out = []
    for _ in range(months):
        out.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return out[::-1]


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA).astimezone(UTC)


def deliveries_by_month(conn: Connection, as_of: date, months: int = MONTHS) -> dict[str, Any]:
    """Deliveries (batches) and rows stored per department and month, the last ``months``."""
    starts = _month_starts(as_of, months)
    day = beijing_date(conn, batches.c.received_at)
    q = (
        select(
            batches.c.dept_uscc,
            day.label("day"),
            func.count().label("batches"),
            func.sum(batches.c.received - batches.c.rejected).label("stored"),
        )
        .where(batches.c.received_at >= _utc(starts[0]))
        .group_by(batches.c.dept_uscc, day)
    )
    labels = [f"{m:%Y-%m}" for m in starts]
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(labels))
    stored: dict[str, int] = defaultdict(int)
    for r in conn.execute(q):
        month = f"{r.day:%Y-%m}" if isinstance(r.day, date) else str(r.day)[:7]
        if month in labels:
            counts[r.dept_uscc][labels.index(month)] += int(r.batches)
            stored[r.dept_uscc] += int(r.stored or 0)
    names = {u: d.name for u, d in departments.all_departments(conn).items()}
    series = [
        {"dept_uscc": u, "name": names.get(u, u), "counts": c, "stored": stored[u]}
        for u, c in sorted(counts.items(), key=lambda kv: -sum(kv[1]))
    ]
    silent = sorted(
        d.name
        for u, d in departments.all_departments(conn, enabled_only=True).items()
        if u not in counts
    )
    return {"months": labels, "series": series, "silent": silent}


def failures(conn: Connection, as_of: date, days: int = RECENT_DAYS) -> list[dict[str, Any]]:
    """Deliveries of the last ``days`` that failed (a job with its reason) or whose receipt has
    rejected rows, newest first, each with where its receipt is."""
    since = _utc(as_of - timedelta(days=days))
    names = {u: d.name for u, d in departments.all_departments(conn).items()}
    failed = conn.execute(
        select(delivery_jobs)
        .where(delivery_jobs.c.state == "failed", delivery_jobs.c.created_at >= since)
        .order_by(delivery_jobs.c.id.desc())
        .limit(200)
    )
    out: list[dict[str, Any]] = [
        {
            "at": j.created_at,
            "dept": names.get(j.dept_uscc, j.dept_uscc),
            "dataset": j.dataset,
            "file_name": j.file_name,
            "what": f"报送失败：{j.error_message or j.error_code or '原因不明'}",
            "link": f"/dept/deliveries/{j.id}",
        }
        for j in failed
    ]
    rejected = conn.execute(
        select(batches)
        .where(batches.c.rejected > 0, batches.c.received_at >= since)
        .order_by(batches.c.id.desc())
        .limit(200)
    )
    out += [
        {
            "at": b.received_at,
            "dept": names.get(b.dept_uscc, b.dept_uscc),
            "dataset": b.dataset,
            "file_name": b.file_name,
            "what": f"退回 {b.rejected} 行（共 {b.received} 行）",
            "link": f"/dept/batches/{b.id}",
        }
        for b in rejected
    ]
    return sorted(out, key=lambda f: f["at"], reverse=True)


def list_counts(conn: Connection, catalog: Catalog, as_of: date) -> list[dict[str, Any]]:
    """Entries per list kind: in force on ``as_of``, exited in the last 30 days."""
    in_force = and_(
        list_entries.c.status == "listed",
        or_(list_entries.c.valid_until.is_(None), list_entries.c.valid_until >= as_of),
    )
    recent_exit = list_entries.c.exited_on >= as_of - timedelta(days=RECENT_DAYS)
    q = select(
        func.coalesce(list_entries.c.list_kind, list_entries.c.dataset).label("kind"),
        func.sum(case((in_force, 1), else_=0)).label("in_force"),
        func.sum(case((recent_exit, 1), else_=0)).label("exited"),
    ).group_by(func.coalesce(list_entries.c.list_kind, list_entries.c.dataset))
    out = []
    for r in conn.execute(q):
        known = catalog.lists.kind(r.kind)
        name = known.name if known else None
        if name is None and r.kind in catalog.datasets:
            name = catalog.datasets[r.kind].name
        out.append(
            {
                "kind": r.kind,
                "name": name or r.kind,
                "in_force": int(r.in_force or 0),
                "exited": int(r.exited or 0),
            }
        )
    return sorted(out, key=lambda r: -r["in_force"])


def case_counts(conn: Connection, as_of: date) -> list[dict[str, Any]]:
    """Open and overdue cases per kind, and those closed in the last 30 days."""
    open_ = cases.c.state.in_(tuple(case_states.OPEN_STATES))
    q = select(
        cases.c.kind,
        func.sum(case((open_, 1), else_=0)).label("open"),
        func.sum(case((and_(open_, cases.c.deadline < as_of), 1), else_=0)).label("overdue"),
        func.sum(
            case((cases.c.closed_at >= _utc(as_of - timedelta(days=RECENT_DAYS)), 1), else_=0)
        ).label("closed"),
    ).group_by(cases.c.kind)
    return [
        {
            "kind": r.kind,
            "name": KINDS[r.kind].label if r.kind in KINDS else r.kind,
            "open": int(r.open or 0),
            "overdue": int(r.overdue or 0),
            "closed": int(r.closed or 0),
        }
        for r in conn.execute(q)
    ]


PACKAGE_STATUS = {
    "sent": "已发送待回执",
    "acknowledged": "已回执",
    "received": "已接收待核验",
    "verified": "已核验",
    "returned": "已退回",
}


def exchange_status(conn: Connection, as_of: date) -> list[dict[str, Any]]:
    """Data packages per direction, node and status, with the newest one's time, and inbound
    packages past their verification deadline (Henan art. 17: 5 working days)."""
    p = exchange_packages
    late = and_(p.c.direction == "in", p.c.status == "received", p.c.due_on < as_of)
    q = select(
        p.c.direction,
        p.c.node,
        p.c.status,
        func.count().label("packages"),
        func.sum(p.c.records).label("records"),
        func.sum(func.coalesce(p.c.rejected, 0)).label("rejected"),
        func.sum(case((late, 1), else_=0)).label("overdue"),
        func.max(p.c.created_at).label("latest"),
    ).group_by(p.c.direction, p.c.node, p.c.status)
    return [
        {
            "direction": "报送省平台" if r.direction == "out" else "接收",
            "node": r.node,
            "status": PACKAGE_STATUS.get(r.status, r.status),
            "packages": int(r.packages),
            "records": int(r.records or 0),
            "rejected": int(r.rejected or 0),
            "overdue": int(r.overdue or 0),
            "latest": r.latest,
        }
        for r in conn.execute(q)
    ]


def _when(at: Any) -> str:
    if isinstance(at, datetime):
        return (
            (at if at.tzinfo else at.replace(tzinfo=UTC))
            .astimezone(CHINA)
            .strftime("%Y-%m-%d %H:%M")
        )
    return "" if at is None else str(at)[:16]


def tables(
    conn: Connection, catalog: Catalog, as_of: date, flags: list[dict[str, Any]]
) -> list[Table]:
    """Every table of the dashboard, as the page shows it and the export writes it."""
    monthly = deliveries_by_month(conn, as_of)
    return [
        Table(
            "deliveries",
            "各部门每月报送批次",
            ("部门", *monthly["months"], "近12个月入库条数"),
            [(s["name"], *s["counts"], s["stored"]) for s in monthly["series"]],
        ),
        Table(
            "monitoring",
            "数据监测提示",
            ("类别", "部门", "数据集", "最近报送", "说明"),
            [
                (
                    f["kind_label"],
                    f["dept_name"],
                    f["dataset_name"],
                    f["last_delivery"] or "无",
                    f["message"],
                )
                for f in flags
            ],
        ),
        _failures_table(failures(conn, as_of)),
        Table(
            "exchange",
            "数据交换（省平台及国家平台）",
            ("方向", "节点", "状态", "数据包", "记录", "被拒收", "逾期未核验", "最近"),
            [
                (
                    e["direction"],
                    e["node"],
                    e["status"],
                    e["packages"],
                    e["records"],
                    e["rejected"],
                    e["overdue"],
                    _when(e["latest"]),
                )
                for e in exchange_status(conn, as_of)
            ],
        ),
        Table(
            "lists",
            "名单（按名单类别）",
            ("名单类别", "代码", "有效期内", f"近{RECENT_DAYS}天移出"),
            [
                (r["name"], r["kind"], r["in_force"], r["exited"])
                for r in list_counts(conn, catalog, as_of)
            ],
        ),
        Table(
            "cases",
            "办件（按类型）",
            ("类型", "办理中", "其中已超期", f"近{RECENT_DAYS}天办结"),
            [(r["name"], r["open"], r["overdue"], r["closed"]) for r in case_counts(conn, as_of)],
        ),
    ]


def _failures_table(found: list[dict[str, Any]]) -> Table:
    def when(at: Any) -> str:
        if isinstance(at, datetime):
            return (
                (at if at.tzinfo else at.replace(tzinfo=UTC))
                .astimezone(CHINA)
                .strftime("%Y-%m-%d %H:%M")
            )
        return str(at)[:16]

    return Table(
        "failures",
        f"近{RECENT_DAYS}天失败或有退回的报送",
        ("时间", "部门", "数据集", "文件", "情况"),
        [(_when(f["at"]), f["dept"], f["dataset"], f["file_name"], f["what"]) for f in found],
        [f["link"] for f in found],
    )


def to_xlsx(table: Table) -> bytes:
    """One dashboard table as an Excel workbook: counts stay numbers, every text cell is inert
    text (names and file names come from outside)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.title[:31])
    ws.append(xlsx_text_row(ws, table.columns))
    for row in table.rows:
        text = xlsx_text_row(ws, row)
        ws.append([v if isinstance(v, int) else c for v, c in zip(row, text, strict=True)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
