"""Read events and "who looked at my record" (查询记录; Henan arts. 39, 40).

The convention: every read of a subject's non-public information appends one audit event
through ``record_read``, with the subject's id, the reader's role and department, and the
purpose the reader gave. The action codes (``READ_ACTIONS``):

- ``subject.read``: a subject's page or record list shown with non-public information;
- ``record.read``: one record shown in full (its detail, its history);
- ``report.issue``: a credit report issued; ``detail.kind`` is ``self`` for the subject's own
  report (counted against the free reports of Henan art. 40), ``public`` or ``third_party``;
- ``check.run``: a 联合奖惩 check (核查) of a subject before a licence, procurement, subsidy;
- ``record.export``: records of the subject included in an export.

Reads of public information need not be logged; when they are (role ``public``, or a subject
account, which never sees another subject's non-public information), ``queries_about`` leaves
them out, together with the subject's own reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.audit.models import audit_events
from xinyong.clock import CHINA, aware, beijing

READ_LABELS: dict[str, str] = {
    "subject.read": "查看信用信息",
    "record.read": "查看信用记录详情",
    "report.issue": "出具信用报告",
    "check.run": "联合奖惩核查",
    "record.export": "导出信用记录",
}
READ_ACTIONS: frozenset[str] = frozenset(READ_LABELS)

# Henan art. 40: a subject may obtain two credit reports about itself a year free of charge.
FREE_SELF_REPORTS_PER_YEAR = 2

# Readers whose reads never show in a subject's query history (see the module docstring).
_NOT_OTHERS = (Role.SUBJECT.value, Role.PUBLIC.value)


def record_read(
    conn: Connection,
    principal: Principal,
    subject_id: int,
    *,
    what: str,
    purpose: str | None = None,
    record_ids: Iterable[int] = (),
    kind: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> audit.AuditEvent:
    """Append the event of one read of ``subject_id``'s information by ``principal``.

    ``what`` is one of ``READ_ACTIONS``; ``record_ids`` the records shown (the first also in
    the event's ``record_id`` column); ``kind`` says which report was issued, by default
    ``self`` when the principal is the subject itself and ``third_party`` otherwise.
    """
    if what not in READ_ACTIONS:
        raise ValueError(f"what must be one of {sorted(READ_ACTIONS)}, not {what!r}")
    ids = [int(i) for i in record_ids]
    own = principal.role is Role.SUBJECT and principal.subject_id == subject_id
    body: dict[str, Any] = dict(detail or {})
    if ids:
        body["record_ids"] = ids
    if what == "report.issue":
        body["kind"] = kind or ("self" if own else "third_party")
    elif kind is not None:
        body["kind"] = kind
    return audit.append_for(
        conn,
        principal,
        what,
        subject_id=subject_id,
        record_id=ids[0] if ids else None,
        purpose=" ".join(purpose.split()) if purpose else None,
        detail=body or None,
    )


@dataclass(frozen=True)
class QueryEntry:
    """One query of a subject's non-public information by someone else, as the subject sees
    it: which unit, in which role, when (Beijing time), for what, doing what."""

    seq: int
    at: datetime  # UTC
    when: str  # Beijing time, for people
    dept_uscc: str | None
    dept_name: str  # the department's name, or the reader's role for roles without one
    role: str
    role_label: str
    action: str
    what: str
    purpose: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "when": self.when,
            "dept_uscc": self.dept_uscc,
            "dept_name": self.dept_name,
            "role": self.role,
            "role_label": self.role_label,
            "action": self.action,
            "what": self.what,
            "purpose": self.purpose,
        }


def _role_label(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return role


def queries_about(
    conn: Connection,
    subject_id: int,
    *,
    dept_names: Mapping[str, str],
    since: datetime | None = None,
    limit: int | None = None,
) -> list[QueryEntry]:
    """Who queried the subject's non-public information, newest first. Names departments,
    never the person at the desk: the subject learns which unit looked (Henan art. 40), the
    unit's own staff stay a matter for its auditors."""
    stmt = (
        select(
            audit_events.c.seq,
            audit_events.c.at,
            audit_events.c.role,
            audit_events.c.dept_uscc,
            audit_events.c.action,
            audit_events.c.purpose,
            audit_events.c.detail,
        )
        .where(
            audit_events.c.subject_id == subject_id,
            audit_events.c.action.in_(sorted(READ_ACTIONS)),
            audit_events.c.outcome == "ok",
            audit_events.c.role.not_in(_NOT_OTHERS),
        )
        # newest first across the audit chains (xinyong.audit.service)
        .order_by(audit_events.c.at.desc(), audit_events.c.seq.desc())
    )
    if since is not None:
        stmt = stmt.where(audit_events.c.at >= _utc(since))
    if limit is not None:
        stmt = stmt.limit(max(limit, 0))
    entries = []
    for row in conn.execute(stmt):
        if row.action == "report.issue" and (row.detail or {}).get("kind") == "public":
            continue  # a public report holds only public information, whoever asked for it
        dept_name = dept_names.get(row.dept_uscc) if row.dept_uscc else None
        at = aware(row.at)
        assert at is not None
        entries.append(
            QueryEntry(
                seq=row.seq,
                at=at,
                when=beijing(at),
                dept_uscc=row.dept_uscc,
                dept_name=dept_name or row.dept_uscc or _role_label(row.role),
                role=row.role,
                role_label=_role_label(row.role),
                action=row.action,
                what=READ_LABELS[row.action],
                purpose=row.purpose,
            )
        )
    return entries


def _utc(value: datetime) -> datetime:
    # Stored as UTC; SQLite compares the text form, so bounds must be UTC too.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def beijing_year(year: int) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of a calendar year in Beijing time."""
    start = datetime(year, 1, 1, tzinfo=CHINA).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA).astimezone(UTC)
    return start, end


def self_reports_used(conn: Connection, subject_id: int, year: int) -> int:
    """How many of its own credit reports the subject obtained in ``year`` (Beijing time)."""
    start, end = beijing_year(year)
    count = conn.scalar(
        select(func.count()).where(
            audit_events.c.subject_id == subject_id,
            audit_events.c.action == "report.issue",
            audit_events.c.outcome == "ok",
            audit_events.c.detail["kind"].as_string() == "self",
            audit_events.c.at >= start,
            audit_events.c.at < end,
        )
    )
    return int(count or 0)


def free_self_reports_left(conn: Connection, subject_id: int, year: int) -> int:
    return max(FREE_SELF_REPORTS_PER_YEAR - self_reports_used(conn, subject_id, year), 0)
