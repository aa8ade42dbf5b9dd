"""Query-volume alerts, on every test database.

The alert looks at thirty days of read events, so the tests write events at chosen past times:
``_reads`` appends them to the chain exactly as the audit service does (seq, prev_hash, hash,
anchor), only with ``at`` given, so that the chain stays valid.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pytest
from fixtures.deliveries import ENV, SAMR
from sqlalchemy import Connection, Engine, insert, select, update
from typer.testing import CliRunner

from xinyong.accounts.alerts import day_start, query_alerts
from xinyong.audit import service as audit
from xinyong.audit.models import audit_anchor, audit_events
from xinyong.cli import app
from xinyong.settings import Settings

TODAY = date(2026, 11, 20)  # a Friday
AS_OF = day_start(TODAY) + timedelta(hours=18)  # 18:00 Beijing time


def _reads(
    conn: Connection,
    actor: str,
    day: date,
    subjects: Iterable[int],
    *,
    role: str = "clerk",
    dept: str | None = SAMR.uscc,
    action: str = "subject.read",
    hour: float = 2,  # hours after Beijing midnight
) -> None:
    head = conn.execute(select(audit_anchor.c.seq, audit_anchor.c.hash)).first()
    seq, prev = (head.seq, head.hash) if head else (0, audit.GENESIS_HASH)
    rows: list[dict[str, Any]] = []
    at = day_start(day) + timedelta(hours=hour)
    for subject_id in subjects:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "role": role,
            "dept_uscc": dept,
            "action": action,
            "outcome": "ok",
            "subject_id": subject_id,
            "record_id": None,
            "batch_id": None,
            "purpose": "行政许可审查",
            "detail": None,
            "source": "10.0.0.1",
            "prev_hash": prev,
        }
        fields["hash"] = prev = audit.event_hash(fields)
        rows.append(fields)
    if not rows:
        return
    conn.execute(insert(audit_events), rows)
    if head is None:
        conn.execute(insert(audit_anchor).values(id=1, seq=seq, hash=prev, at=at))
    else:
        conn.execute(update(audit_anchor).values(seq=seq, hash=prev, at=at))


def _history(conn: Connection, actor: str, per_day: int, days: int = 30, **kw: Any) -> None:
    """``per_day`` distinct subjects on each working day of the ``days`` before TODAY."""
    for ago in range(days, 0, -1):
        day = TODAY - timedelta(days=ago)
        if day.weekday() < 5:
            _reads(conn, actor, day, range(1000 + ago * 7, 1000 + ago * 7 + per_day), **kw)


@pytest.fixture
def alerting(settings: Settings) -> Settings:
    return settings.model_copy(update={"query_alert_factor": 5.0, "query_alert_min_subjects": 50})


def test_a_burst_alerts_and_a_steady_account_does_not(engine: Engine, alerting: Settings) -> None:
    with engine.begin() as conn:
        _history(conn, "steady", per_day=40)
        _reads(conn, "steady", TODAY, range(45))  # its usual day
        _history(conn, "burst", per_day=10, dept=ENV.uscc)
        _reads(conn, "burst", TODAY, range(120), dept=ENV.uscc)
        _reads(conn, "burst", TODAY, range(30))  # the same subjects again count once
        assert audit.verify(conn).ok
    with engine.begin() as conn:
        alerts = query_alerts(conn, alerting, as_of=AS_OF)
    [alert] = alerts
    assert (alert.actor, alert.role, alert.dept_uscc, alert.day) == (
        "burst",
        "clerk",
        ENV.uscc,
        TODAY,
    )
    assert (alert.subjects, alert.usual, alert.threshold) == (120, 10.0, 50.0)
    assert alert.active_days == 22  # working days of the previous thirty
    assert "12.0 倍" in alert.message


def test_the_threshold_needs_both_the_factor_and_the_minimum(
    engine: Engine, alerting: Settings
) -> None:
    with engine.begin() as conn:
        _history(conn, "quiet", per_day=2)
        _reads(conn, "quiet", TODAY, range(30))  # 15x usual but under the minimum of 50
        _history(conn, "busy", per_day=20)
        _reads(conn, "busy", TODAY, range(100))  # 5x usual exactly: not more than
        _reads(conn, "newcomer", TODAY, range(60))  # no history: measured against the floor
    with engine.begin() as conn:
        assert [a.actor for a in query_alerts(conn, alerting, as_of=AS_OF)] == ["newcomer"]
        lower = alerting.model_copy(update={"query_alert_min_subjects": 20})
        found = {a.actor: a for a in query_alerts(conn, lower, as_of=AS_OF)}
    assert sorted(found) == ["newcomer", "quiet"]
    assert found["newcomer"].usual == 1.0 and found["newcomer"].active_days == 0


def test_only_reads_of_subjects_by_accounts_count(engine: Engine, alerting: Settings) -> None:
    with engine.begin() as conn:
        _reads(conn, "public", TODAY, range(500), role="public", dept=None)
        _reads(conn, "importer", TODAY, range(500), action="batch.ingest")
        _reads(conn, "yesterday", TODAY - timedelta(days=1), range(500))
    with engine.begin() as conn:
        assert query_alerts(conn, alerting, as_of=AS_OF) == []
        # the day before, the same reads were a burst of their own
        [alert] = query_alerts(conn, alerting, as_of=AS_OF - timedelta(days=1))
    assert (alert.actor, alert.subjects) == ("yesterday", 500)


def test_days_are_beijing_days(engine: Engine, alerting: Settings) -> None:
    with engine.begin() as conn:
        # 23:30 Beijing time yesterday is 15:30 UTC, 00:30 today is 16:30 UTC: one UTC day,
        # two Beijing days.
        _reads(conn, "night", TODAY - timedelta(days=1), range(10), hour=23.5)
        _reads(conn, "night", TODAY, range(100, 160), hour=0.5)
    with engine.begin() as conn:
        [alert] = query_alerts(conn, alerting, as_of=AS_OF)
    assert (alert.subjects, alert.usual, alert.active_days) == (60, 10.0, 1)


def test_events_after_as_of_do_not_count(engine: Engine, alerting: Settings) -> None:
    with engine.begin() as conn:
        _reads(conn, "evening", TODAY, range(80), hour=20)  # 20:00 Beijing time
    with engine.begin() as conn:
        assert query_alerts(conn, alerting, as_of=AS_OF) == []
        assert len(query_alerts(conn, alerting, as_of=AS_OF + timedelta(hours=3))) == 1


def test_the_command_line_lists_alerts(cli: None, engine: Engine) -> None:
    with engine.begin() as conn:
        _history(conn, "burst", per_day=10)
        _reads(conn, "burst", TODAY, range(90))
    result = CliRunner().invoke(app, ["audit", "alerts", "--date", TODAY.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    [alert] = json.loads(result.stdout)
    assert (alert["actor"], alert["subjects"], alert["day"]) == ("burst", 90, TODAY.isoformat())
    table = CliRunner().invoke(app, ["audit", "alerts", "--date", TODAY.isoformat()])
    assert table.exit_code == 0 and "查询量异常预警（1 个账号）" in table.stdout
    quiet = CliRunner().invoke(app, ["audit", "alerts", "--date", "2026-01-05"])
    assert quiet.exit_code == 0 and "没有查询量异常的账号" in quiet.stdout
    bad = CliRunner().invoke(app, ["audit", "alerts", "--date", "20.11.2026"])
    assert bad.exit_code == 2
