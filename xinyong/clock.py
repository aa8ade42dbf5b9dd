"""The one clock (时钟) of the platform, and time as it is stored (UTC) and read (Beijing time).

Every "now" and "today" comes from a ``Clock``. The settings carry one (``Settings.clock``);
an engine made from the settings carries it to every connection it hands out, so a service that
holds a ``Connection`` asks ``now(conn)`` / ``today(conn)`` and never the wall clock. Tests and
"as if" runs swap the clock; nothing patches a global.

- ``now()`` is an aware UTC datetime: what the platform stores.
- ``today()`` is the Beijing calendar date: what people mean by "today" (a decision date, a
  publicity end, a working-day deadline).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

# Where an engine's connections keep their clock (``Connection.info`` of the pooled connection).
_INFO_KEY = "xinyong_clock"


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def today(self) -> date:
        """The current date in Beijing."""
        ...


class _BeijingToday:
    def now(self) -> datetime:  # pragma: no cover - overridden
        raise NotImplementedError

    def today(self) -> date:
        return self.now().astimezone(CHINA).date()


class SystemClock(_BeijingToday):
    """The wall clock: production."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock(_BeijingToday):
    """A clock that stands still until it is moved: tests of deadlines and expiry."""

    def __init__(self, at: datetime) -> None:
        self._at = _utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _utc(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


class StartedClock(_BeijingToday):
    """A clock that starts at a given instant and then runs at the wall clock's pace.

    Tests use it so that dates are fixed whatever day the suite runs on, while timeouts,
    session ages and retries still see time pass. ``XINYONG_CLOCK_START`` gives a command
    the same clock (refused in production)."""

    def __init__(self, start: datetime) -> None:
        self._start = _utc(start)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)

    def advance(self, delta: timedelta) -> None:
        self._start += delta

    def __repr__(self) -> str:
        return f"StartedClock({self._start.isoformat()})"


SYSTEM_CLOCK = SystemClock()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a clock needs an aware datetime")
    return value.astimezone(UTC)


# -- the clock of a connection ------------------------------------------------------------------


def bind_clock(engine: Any, clock: Clock) -> None:
    """Give every connection of ``engine`` this clock (called by ``db.make_engine``)."""
    from sqlalchemy import event

    @event.listens_for(engine, "engine_connect")
    def _attach(conn: Any) -> None:
        conn.info[_INFO_KEY] = clock


def clock_of(conn: Any) -> Clock:
    """The clock of the settings that made this connection's engine.

    An engine made without ``make_engine`` (a benchmark's raw engine) has the system clock."""
    found = conn.info.get(_INFO_KEY)
    return found if found is not None else SYSTEM_CLOCK


def now(conn: Any) -> datetime:
    """The current instant (UTC) for work done on this connection."""
    return clock_of(conn).now()


def today(conn: Any) -> date:
    """Today's date in Beijing for work done on this connection."""
    return clock_of(conn).today()


# -- stored time, read by people ----------------------------------------------------------------


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back as naive UTC, PostgreSQL as aware: make both aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def beijing(value: datetime | None) -> str:
    """A stored timestamp as Beijing time, to the second; empty for None."""
    utc = aware(value)
    return "" if utc is None else utc.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
