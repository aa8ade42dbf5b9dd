"""Time as the platform stores it (UTC) and as its users read it (Beijing time)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back as naive UTC, PostgreSQL as aware: make both aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def beijing(value: datetime | None) -> str:
    """A stored timestamp as Beijing time, to the second; empty for None."""
    utc = aware(value)
    return "" if utc is None else utc.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
