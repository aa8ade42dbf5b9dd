"""The daily step that ends list entries whose validity ran out (registered in
``xinyong.jobs.DAILY_STEPS`` as ``lists.expiry``)."""

from __future__ import annotations

from sqlalchemy import Connection

from xinyong.daily import DailyRun
from xinyong.lists.exits import expire_entries
from xinyong.measures.loaded import configured


def expire_lists(conn: Connection, run: DailyRun) -> dict[str, int]:
    """Entries valid until a day before ``run.as_of`` exit (期满移出) with an exit notice and a
    ``list.exited`` notification; idempotent (exited entries are not due again)."""
    catalog, measures = configured()
    return {"exited": expire_entries(conn, catalog, measures, run.as_of)}
