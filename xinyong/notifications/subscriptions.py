"""Subscriptions (订阅): a department follows subjects it supervises and is told of every new
record about them, as ``record.new`` notifications enqueued while the batch is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select

from xinyong import clock
from xinyong.accounts.policy import require_may_act_on
from xinyong.accounts.roles import Principal
from xinyong.audit.service import append_for
from xinyong.batches.problems import Problem
from xinyong.catalog.schema import Dataset
from xinyong.clock import aware
from xinyong.errors import Conflict, NotFound
from xinyong.notifications.models import notification_subscriptions
from xinyong.notifications.outbox import Outgoing, enqueue_many
from xinyong.records.models import records
from xinyong.subjects.models import subjects

RECORD_NEW = "record.new"


@dataclass(frozen=True)
class Subscription:
    id: int
    dept_uscc: str
    subject_id: int
    subject_name: str
    created_at: datetime
    created_by: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dept_uscc": self.dept_uscc,
            "subject_id": self.subject_id,
            "subject_name": self.subject_name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def _may_subscribe(principal: Principal, dept_uscc: str) -> None:
    require_may_act_on(
        principal,
        dept_uscc,
        what="subscription",
        message="只有平台管理员或本部门可以管理本部门的订阅",
    )


def subscribe(
    conn: Connection, principal: Principal, *, dept_uscc: str, subject_id: int
) -> Subscription:
    """The department follows the subject from now on (records already stored are not sent)."""
    _may_subscribe(principal, dept_uscc)
    name = conn.execute(select(subjects.c.name).where(subjects.c.id == subject_id)).scalar()
    if name is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"没有编号为 {subject_id} 的信用主体")
    s = notification_subscriptions
    taken = conn.execute(
        select(s.c.id).where(s.c.dept_uscc == dept_uscc, s.c.subject_id == subject_id)
    ).first()
    if taken is not None:
        raise Conflict("SUBSCRIPTION_EXISTS", f"部门 {dept_uscc} 已订阅信用主体“{name}”")
    now = clock.now(conn)
    sub_id = conn.execute(
        insert(s)
        .values(
            dept_uscc=dept_uscc, subject_id=subject_id, created_at=now, created_by=principal.name
        )
        .returning(s.c.id)
    ).scalar_one()
    append_for(
        conn,
        principal,
        action="notification.subscribe",
        dept_uscc=dept_uscc,
        subject_id=subject_id,
    )
    return Subscription(sub_id, dept_uscc, subject_id, name, now, principal.name)


def unsubscribe(conn: Connection, principal: Principal, *, dept_uscc: str, subject_id: int) -> None:
    _may_subscribe(principal, dept_uscc)
    s = notification_subscriptions
    gone = conn.execute(
        delete(s).where(s.c.dept_uscc == dept_uscc, s.c.subject_id == subject_id)
    ).rowcount
    if not gone:
        raise NotFound(
            "SUBSCRIPTION_NOT_FOUND", f"部门 {dept_uscc} 没有订阅编号为 {subject_id} 的信用主体"
        )
    append_for(
        conn,
        principal,
        action="notification.unsubscribe",
        dept_uscc=dept_uscc,
        subject_id=subject_id,
    )


def list_subscriptions(conn: Connection, *, dept_uscc: str | None = None) -> list[Subscription]:
    s = notification_subscriptions
    query = (
        select(s, subjects.c.name)
        .select_from(s.join(subjects, subjects.c.id == s.c.subject_id))
        .order_by(s.c.dept_uscc, s.c.id)
    )
    if dept_uscc:
        query = query.where(s.c.dept_uscc == dept_uscc)
    return [
        Subscription(
            r.id,
            r.dept_uscc,
            r.subject_id,
            r.name,
            aware(r.created_at) or r.created_at,
            r.created_by,
        )
        for r in conn.execute(query)
    ]


# -- the ingestion step ------------------------------------------------------------------------


def notify_new_records(
    conn: Connection, dataset: Dataset, batch_id: int
) -> list[tuple[int, Problem]]:
    """After a batch is stored: one ``record.new`` event per new record of the batch about a
    subscribed subject, delivered to each subscribed department.

    One query finds the pairs; it is driven by the subscriptions (usually few) through the
    records' subject index, so a batch about nobody anyone follows costs one cheap look.
    """
    s, r = notification_subscriptions, records
    if not conn.execute(select(exists().select_from(s))).scalar():
        return []
    rows = conn.execute(
        select(
            r.c.id,
            r.c.subject_id,
            r.c.dept_uscc,
            r.c.decision_date,
            s.c.dept_uscc.label("subscriber"),
        )
        .select_from(s.join(r, r.c.subject_id == s.c.subject_id))
        .where(r.c.batch_id == batch_id, r.c.version == 1)
        .order_by(r.c.id, s.c.dept_uscc)
    ).all()
    by_record: dict[int, tuple[Any, list[str]]] = {}
    for row in rows:
        by_record.setdefault(row.id, (row, []))[1].append(row.subscriber)
    events = [
        Outgoing(
            kind=RECORD_NEW,
            subject_id=row.subject_id,
            payload={
                "record_id": row.id,
                "dataset": dataset.code,
                "dataset_name": dataset.name,
                "source_dept_uscc": row.dept_uscc,
                "decision_date": row.decision_date.isoformat() if row.decision_date else None,
                "batch_id": batch_id,
            },
            dept_usccs=tuple(depts),
            event_key=f"{RECORD_NEW}:record:{row.id}",
        )
        for row, depts in by_record.values()
    ]
    enqueue_many(conn, events)
    return []
