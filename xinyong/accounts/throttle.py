"""Login throttling: exponential back-off per client address, per account and address, and per
account — designed so that nobody can keep somebody else's account locked.

Three counters of consecutive failures, each in ``login_throttle`` under the SHA-256 of what
it counts (a typed username may be a mistyped password: it is never stored in clear):

- ``pair`` (username and address): from ``PAIR.threshold`` failures on, that address waits
  before trying that username again, twice as long after every further failure;
- ``address`` (any username): an address that sprays many usernames backs off the same way
  from ``ADDRESS.threshold`` failures;
- ``account`` (username, any address): a guessing attack spread over many addresses. Its lock
  binds only the addresses that have themselves failed on that username, so the account's
  owner, logging in from an address that has not failed, is never kept out by it.

Every back-off is ``base × 2^(failures − threshold)``, capped; a counter is forgotten a
``WINDOW`` after its last failure, and a successful login clears the username's own counters
(never the address's: one valid account must not buy an address fresh guesses elsewhere).

The counters are keyed on the username as typed, whether or not an account has it, so an
unknown username is throttled exactly like an existing one and the answers (code, message and
lock time) never tell the two apart.

Functions take a ``Connection`` and never commit; the caller commits a refusal too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from xinyong.accounts.models import login_throttle
from xinyong.clock import aware
from xinyong.db import is_sqlite

# A failure older than this no longer counts: the counters of a forgotten attempt lapse.
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Rule:
    kind: str
    threshold: int  # the failure that starts the first back-off
    base: timedelta  # the first back-off
    cap: timedelta  # no back-off is longer

    def backoff(self, failures: int) -> timedelta | None:
        if failures < self.threshold:
            return None
        # the exponent is bounded so that a very long attack does not overflow anything
        return min(self.cap, self.base * (1 << min(failures - self.threshold, 20)))


PAIR = Rule("pair", threshold=5, base=timedelta(minutes=1), cap=timedelta(hours=1))
ADDRESS = Rule("address", threshold=20, base=timedelta(minutes=1), cap=timedelta(hours=1))
ACCOUNT = Rule("account", threshold=10, base=timedelta(minutes=1), cap=timedelta(hours=1))


@dataclass(frozen=True)
class Counter:
    rule: Rule
    key: str
    failures: int
    locked_until: datetime | None

    def locked_at(self, at: datetime) -> datetime | None:
        return self.locked_until if self.locked_until and self.locked_until > at else None


def _key(rule: Rule, *parts: str) -> str:
    return hashlib.sha256("\x00".join((rule.kind, *parts)).encode()).hexdigest()


def _keys(username: str, address: str) -> dict[Rule, str]:
    return {
        PAIR: _key(PAIR, username, address),
        ADDRESS: _key(ADDRESS, address),
        ACCOUNT: _key(ACCOUNT, username),
    }


def _counters(conn: Connection, username: str, address: str, at: datetime) -> dict[Rule, Counter]:
    keys = _keys(username, address)
    rows = {
        r.key: r
        for r in conn.execute(
            select(login_throttle).where(login_throttle.c.key.in_(list(keys.values())))
        )
    }
    found: dict[Rule, Counter] = {}
    for rule, key in keys.items():
        row = rows.get(key)
        last = aware(row.last_failure_at) if row is not None else None
        if row is None or last is None or at - last >= WINDOW:
            found[rule] = Counter(rule, key, 0, None)
        else:
            found[rule] = Counter(rule, key, row.failures, aware(row.locked_until))
    return found


def _binding(counters: dict[Rule, Counter], at: datetime) -> datetime | None:
    """The latest lock that binds this client: its address, its attempts on this username,
    and the username's own lock only when this address has failed on it."""
    locks = [counters[PAIR].locked_at(at), counters[ADDRESS].locked_at(at)]
    if counters[PAIR].failures > 0:
        locks.append(counters[ACCOUNT].locked_at(at))
    present = [lock for lock in locks if lock is not None]
    return max(present) if present else None


def locked_until(conn: Connection, username: str, address: str, at: datetime) -> datetime | None:
    """When this client may try this username again, or None when it may now."""
    return _binding(_counters(conn, username, address, at), at)


def record_failure(conn: Connection, username: str, address: str, at: datetime) -> datetime | None:
    """Count a failed attempt on every counter; the lock that now binds this client, if any.
    Rows past the window are pruned here, so a spray of made-up usernames leaves no more than
    a day of rows behind."""
    conn.execute(delete(login_throttle).where(login_throttle.c.last_failure_at < at - WINDOW))
    counters = _counters(conn, username, address, at)
    owner = _key(ACCOUNT, username)
    updated: dict[Rule, Counter] = {}
    for rule, counter in counters.items():
        failures = counter.failures + 1
        wait = rule.backoff(failures)
        until = at + wait if wait is not None else counter.locked_until
        updated[rule] = Counter(rule, counter.key, failures, until)
        values = {"failures": failures, "last_failure_at": at, "locked_until": until}
        insert = (sqlite.insert if is_sqlite(conn) else postgresql.insert)(login_throttle)
        conn.execute(
            insert.values(
                key=counter.key,
                kind=rule.kind,
                username_key=None if rule is ADDRESS else owner,
                **values,
            ).on_conflict_do_update(index_elements=[login_throttle.c.key], set_=values)
        )
    return _binding(updated, at)


def clear_account(conn: Connection, username: str, address: str | None = None) -> None:
    """Forget the username's counters: after a successful login its account counter and the
    address's attempts on it; when an operator sets a new password (``address`` None), its
    counters from every address. An address's own counter is never cleared here."""
    owner = _key(ACCOUNT, username)
    if address is None:
        conn.execute(delete(login_throttle).where(login_throttle.c.username_key == owner))
        return
    keys = [owner, _key(PAIR, username, address)]
    conn.execute(delete(login_throttle).where(login_throttle.c.key.in_(keys)))
