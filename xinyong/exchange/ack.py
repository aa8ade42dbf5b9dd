"""Acknowledgements (回执) of outbound packages, reconciled per record.

The receiving platform answers each package with a JSON file::

    {"package_id": "…", "node": "410000", "received_at": "…",
     "results": [{"seq": 12, "status": "rejected", "reason_code": "E102",
                  "reason": "统一社会信用代码校验位错误"}, …],
     "others": "accepted"}

``results`` names records by the ``seq`` of their body line; ``others`` says what the records
it does not name became (``accepted``, or absent: they stay ``sent``). Each record of a package
is then sent, accepted or rejected with the reason, and each department whose records were
rejected gets a receipt in its inbox, with the list on its desk (``/dept/exchange``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from xinyong import clock
from xinyong.accounts.policy import department_scope, require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.db import bulk_insert, dumps, rows_by_keys, timestamp_param
from xinyong.errors import Conflict, NotFound, XinyongError
from xinyong.exchange.feed import EVENT_LABELS
from xinyong.exchange.models import exchange_changes, exchange_packages, exchange_results
from xinyong.notifications import inbox
from xinyong.records.keys import show_key
from xinyong.records.models import records

STATUSES = ("accepted", "rejected")
STATUS_LABELS = {"sent": "已推送", "accepted": "已接收", "rejected": "被退回"}
MAX_REASON = 500


@dataclass(frozen=True)
class AckResult:
    package_id: str
    dataset: str
    records: int
    accepted: int
    rejected: int
    unknown: list[int]  # seq numbers the acknowledgement named that the package does not hold
    departments: dict[str, int]  # rejected records per department

    def as_dict(self) -> dict[str, Any]:
        return {
            "package_id": self.package_id,
            "dataset": self.dataset,
            "records": self.records,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unknown": self.unknown,
            "departments": self.departments,
        }


def _invalid(message: str) -> XinyongError:
    return XinyongError("ACK_INVALID", f"回执文件格式有误：{message}")


def read_ack(path: Path) -> dict[str, Any]:
    try:
        ack = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid(f"无法读取 {path.name}（应为 UTF-8 JSON）") from None
    if not isinstance(ack, dict) or not isinstance(ack.get("package_id"), str):
        raise _invalid("缺少 package_id")
    results = ack.get("results", [])
    if not isinstance(results, list):
        raise _invalid("results 应为数组")
    for n, item in enumerate(results, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("seq"), int):
            raise _invalid(f"第 {n} 条结果缺少整数 seq")
        if item.get("status") not in STATUSES:
            raise _invalid(f"第 {n} 条结果的 status 应为 accepted 或 rejected")
    if ack.get("others") not in (None, "accepted"):
        raise _invalid("others 只能是 accepted")
    return ack


def reconcile(conn: Connection, principal: Principal, path: Path) -> AckResult:
    """Read the acknowledgement at ``path`` and settle its package per record; the caller
    commits. A package is acknowledged once; a second file for it is refused."""
    require_role(principal, Role.OPERATOR)
    ack = read_ack(path)
    p = exchange_packages
    pkg = conn.execute(
        select(p).where(p.c.guid == ack["package_id"], p.c.direction == "out")
    ).first()
    if pkg is None:
        raise NotFound("PACKAGE_NOT_FOUND", f"没有编号为 {ack['package_id']} 的推送数据包")
    if pkg.status != "sent":
        raise Conflict("ACK_DUPLICATE", f"数据包 {pkg.guid} 已于此前确认回执，不再重复处理")

    wanted = {int(item["seq"]): item for item in ack.get("results", [])}
    c = exchange_changes
    held = {
        row.seq: row
        for row in rows_by_keys(
            conn,
            [c.c.seq, c.c.record_id, c.c.dept_uscc, c.c.dataset],
            c.c.seq,
            wanted,
            c.c.seq >= pkg.first_seq,
            c.c.seq <= pkg.last_seq,
            c.c.dataset == pkg.dataset,
            c.c.shared.is_(True),
        )
    }
    unknown = sorted(set(wanted) - set(held))
    at = clock.now(conn)
    rows = []
    per_dept: dict[str, int] = {}
    rejected = accepted_listed = 0
    for seq in sorted(held):
        change, item = held[seq], wanted[seq]
        status = item["status"]
        reason = str(item.get("reason") or "")[:MAX_REASON] or None
        if status == "rejected":
            rejected += 1
            per_dept[change.dept_uscc] = per_dept.get(change.dept_uscc, 0) + 1
            reason = reason or "未说明原因"
        else:
            accepted_listed += 1
        code = item.get("reason_code")
        rows.append(
            (
                pkg.id,
                seq,
                change.record_id,
                change.dept_uscc,
                change.dataset,
                status,
                str(code)[:32] if code is not None else None,
                reason,
                dumps({k: v for k, v in item.items() if k not in ("seq", "status", "reason")}),
                timestamp_param(conn, at),
            )
        )
    bulk_insert(
        conn,
        exchange_results,
        [
            "package_id",
            "seq",
            "record_id",
            "dept_uscc",
            "dataset",
            "status",
            "reason_code",
            "reason",
            "detail",
            "created_at",
        ],
        rows,
    )
    accepted = pkg.records - rejected if ack.get("others") == "accepted" else accepted_listed
    conn.execute(
        update(p)
        .where(p.c.id == pkg.id)
        .values(status="acknowledged", accepted=accepted, rejected=rejected, acknowledged_at=at)
    )
    for dept, count in sorted(per_dept.items()):
        inbox.post(
            conn,
            subject_id=None,
            dept_uscc=dept,
            title=f"省级平台退回 {count} 条数据（{pkg.dataset}）",
            body=(
                f"推送数据包 {pkg.guid} 中贵单位报送的 {count} 条记录未被接收，"
                "请查看退回原因，更正后重新报送。"
            ),
            link="/dept/exchange",
        )
    result = AckResult(
        package_id=pkg.guid,
        dataset=pkg.dataset,
        records=pkg.records,
        accepted=accepted,
        rejected=rejected,
        unknown=unknown,
        departments=per_dept,
    )
    audit.append(
        conn,
        actor=principal.name,
        role=principal.role.value,
        action="exchange.ack",
        source=principal.source or None,
        detail=result.as_dict(),
    )
    return result


@dataclass(frozen=True)
class Rejection:
    package_id: str
    seq: int
    record_id: int
    dataset: str
    key: str
    event: str
    reason_code: str | None
    reason: str
    at: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "package_id": self.package_id,
            "seq": self.seq,
            "record_id": self.record_id,
            "dataset": self.dataset,
            "key": self.key,
            "event": self.event,
            "event_label": EVENT_LABELS.get(self.event, self.event),
            "reason_code": self.reason_code,
            "reason": self.reason,
            "at": self.at.isoformat() if self.at else None,
        }


def _scope(principal: Principal, dept_uscc: str | None) -> str | None:
    """The department whose exchange results the principal reads (None: all, operators)."""
    own = department_scope(principal)
    return own if own is not None else dept_uscc


def rejections(
    conn: Connection, principal: Principal, *, dept_uscc: str | None = None, limit: int = 200
) -> list[Rejection]:
    """The records the receiving platform rejected, newest first: a department sees its own."""
    scope = _scope(principal, dept_uscc)
    x, p, r, c = exchange_results, exchange_packages, records, exchange_changes
    query = (
        select(
            p.c.guid,
            x.c.seq,
            x.c.record_id,
            x.c.dataset,
            r.c.natural_key,
            c.c.event,
            x.c.reason_code,
            x.c.reason,
            x.c.created_at,
        )
        .select_from(
            x.join(p, p.c.id == x.c.package_id)
            .join(r, r.c.id == x.c.record_id)
            .join(c, c.c.seq == x.c.seq)
        )
        .where(x.c.status == "rejected")
        .order_by(x.c.id.desc())
        .limit(limit)
    )
    if scope is not None:
        query = query.where(x.c.dept_uscc == scope)
    return [
        Rejection(
            package_id=row.guid,
            seq=row.seq,
            record_id=row.record_id,
            dataset=row.dataset,
            key=show_key(row.natural_key),
            event=row.event,
            reason_code=row.reason_code,
            reason=row.reason or "",
            at=row.created_at,
        )
        for row in conn.execute(query)
    ]


def summary(
    conn: Connection, principal: Principal, *, dept_uscc: str | None = None
) -> dict[str, int]:
    """Of the department's (or all) shared changes: how many were sent, accepted, rejected, and
    how many wait for the next export (``pending``)."""
    scope = _scope(principal, dept_uscc)
    c, p, x = exchange_changes, exchange_packages, exchange_results
    in_package = and_(
        p.c.direction == "out",
        p.c.dataset == c.c.dataset,
        c.c.seq >= p.c.first_seq,
        c.c.seq <= p.c.last_seq,
    )
    base = select(func.count()).select_from(c).where(c.c.shared.is_(True))
    if scope is not None:
        base = base.where(c.c.dept_uscc == scope)
    packaged = base.where(select(p.c.id).where(in_package).exists())
    total = int(conn.execute(base).scalar_one())
    sent = int(conn.execute(packaged).scalar_one())
    acked = int(
        conn.execute(
            packaged.where(select(p.c.id).where(in_package, p.c.status == "acknowledged").exists())
        ).scalar_one()
    )
    rej = select(func.count()).select_from(x).where(x.c.status == "rejected")
    if scope is not None:
        rej = rej.where(x.c.dept_uscc == scope)
    rejected = int(conn.execute(rej).scalar_one())
    return {
        "pending": total - sent,
        "sent": sent - acked,
        "accepted": acked - rejected,
        "rejected": rejected,
    }
