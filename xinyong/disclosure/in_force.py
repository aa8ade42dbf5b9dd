"""Whether a record or a list entry is in force (公示中 / 有效) on a day: the one rule.

Every public output (portal pages, the public API, reports, open lists, the command line's
views) and every 联合奖惩 check asks here, with the day it answers for (``as_of``: the
injected clock's Beijing today unless the caller names a day). The answer comes from the
record's dates and state, at read time:

- the state must be one the reader counts (the catalogue's public states, ``state_rules``, for
  public output; a check passes the states that trigger or suspend measures, which also keeps
  已修复 records to say which measure they stop);
- the day must not be after the record's last day of publicity (``publicity_max_end``, from the
  catalogue's rule sets; NULL where no rule limits it);
- for a list entry (名单), the day must not be after its validity (``valid_until``, 有效期至).

The last day is shown; from Beijing midnight after it the record is out. ``xinyong daily`` moves
the stored states on and sends the notices, but nothing waits for it: a missed run never
publishes an expired record nor lets one trigger a measure.

The SQL forms compare the bare columns with a bound date (no function around a column), so
that ``ix_records_state_publicity_max_end`` and the per-subject index of migration 0011
(``subject_id, dataset, state, publicity_max_end``) serve them as index ranges.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_
from sqlalchemy.sql.elements import KeyedColumnElement

from xinyong.clock import today
from xinyong.db import unindexed
from xinyong.records import states
from xinyong.records.models import records

# The states the public sees come from the catalogue (``state_rules``: ``public``); every reader
# passes them. Archived states stay kept and are shown to government and the subject itself.


def as_of(conn: Any, given: date | None = None) -> date:
    """The day an answer is for: ``given``, else today in Beijing by the connection's clock."""
    return given if given is not None else today(conn)


def ended(last_day: date | None, on: date) -> bool:
    """True when ``last_day`` (a publicity end or a validity) is before ``on``; None never ends."""
    return last_day is not None and last_day < on


def in_force(
    state: str,
    last_day: date | None,
    on: date,
    *,
    valid_until: date | None = None,
    counted: Iterable[str],
) -> bool:
    """Is a record (state, last day of publicity) — and its list entry's validity, when it is
    one — in force on ``on``, for a reader counting the states ``counted``?"""
    return state in counted and not ended(last_day, on) and not ended(valid_until, on)


def in_force_sql(
    on: date | ColumnElement[Any],
    *,
    counted: Iterable[str],
    table: Table = records,
    scan: bool = False,
) -> ColumnElement[bool]:
    """``in_force`` of the records of ``table`` (``records`` or an alias) as a SQL condition.
    ``scan``: the reader passes over most of the table, which SQLite then reads in table order
    rather than through the index on (state, publicity_max_end)."""
    state: ColumnElement[Any] = table.c.state
    end: ColumnElement[Any] = table.c.publicity_max_end
    if scan:
        state = unindexed(state, type_=state.type)
        end = unindexed(end, type_=end.type)
    return and_(state.in_(sorted(counted)), or_(end.is_(None), end >= on))


def entry_in_force_sql(
    valid_until: KeyedColumnElement[Any], on: date | ColumnElement[Any]
) -> ColumnElement[bool]:
    """The list-entry part of ``in_force`` as a SQL condition on its validity column
    (``list_entries.valid_until``; the lists package sits above this one and passes it)."""
    return or_(valid_until.is_(None), valid_until >= on)


def effective_state(state: str, last_day: date | None, on: date) -> str:
    """The state as it reads on ``on``: a record 公示中 past its last day is 期满停止公示 even
    before ``xinyong daily`` stores it so (records 异议中 wait for the objection, as daily does;
    they are out of public view by ``in_force`` all the same)."""
    if state == states.PUBLISHED and ended(last_day, on):
        return states.EXPIRED
    return state
