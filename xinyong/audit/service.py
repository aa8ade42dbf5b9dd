"""The audit log (审计日志): appending events to a hash chain, verifying it, searching it.

Events form a few hash chains (``chain`` 1..``CHAINS``): within its chain each event carries
``seq`` (previous + 1), ``prev_hash`` (the previous event's hash; 64 zeros for the first) and
``hash``, the SHA-256 of a canonical JSON of every other column. A writer appends to the first
chain whose lock is free, so concurrent writers (threads, processes, application servers) do
not queue on one lock; a lone writer, and every writer on SQLite, appends to chain 1. Each
chain has its own head in ``audit_anchor``; the external anchor holds every head. See
docs/audit-chains.md. What each layer protects against:

- **Append-only enforcement** (migration 0002): SQLite triggers, and on PostgreSQL grants to the
  application role ``xinyong_app`` (no UPDATE, DELETE or TRUNCATE on ``audit_events``) plus a
  trigger that refuses UPDATE, DELETE and TRUNCATE even to the table owner. This stops the
  application, or anyone holding its database login, from changing history. A superuser or the
  owner can still drop the trigger; the layers below are what catch that.
- **The hash chain** (``verify``): a changed column breaks that event's hash; a deleted or
  reordered event breaks the ``seq`` continuity and the next event's ``prev_hash``. It names the
  first bad event. The hash has no secret: someone who rewrites an event *and every event after
  it* yields a chain that is consistent in itself, and only an anchor catches that.
- **The anchor table** ``audit_anchor`` (one row, moved in the same transaction as each append):
  a removed tail leaves the head pointing past the last event, and a rewritten tail leaves it
  with another hash. It lives in the same database, so an attacker who can delete events can
  also rewind it.
- **The external anchor** (``export_anchor`` to a file kept elsewhere, then ``verify(conn,
  anchor)`` or ``check_against``): the head as it was when exported. Whatever the attacker does
  inside the database afterwards (cut the tail and rewind ``audit_anchor``, rewrite the chain
  from some event on), the event at the exported ``seq`` no longer exists or no longer has the
  exported hash. Events appended after the export are covered only by the next export.

Appends to one chain are serialised (``xinyong.db.take_chain``): two writers never read the same
head. A chain is held from an ``append`` until its transaction ends, so append as late as possible
(just before the commit) in a long transaction. On SQLite never call ``append_independently``
after ``append`` inside the same open transaction: it would wait for the caller itself (one
writer at a time), and fails after the busy timeout; on PostgreSQL it takes another chain.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL

from xinyong import clock
from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_anchor, audit_events
from xinyong.db import DriverStatement, is_sqlite, limit_lock_wait, take_chain_reading
from xinyong.errors import NotFound, XinyongError

GENESIS_HASH = "0" * 64
OUTCOMES = ("ok", "denied", "failed")
# The advisory lock of chain 1 on PostgreSQL ("xinyong" + 1 as bytes); chain c locks this + c - 1.
# Fixed, so that every process of the platform agrees on it.
APPEND_LOCK_KEY = 0x78696E796F6E6701
# How many chains writers spread over: more than the concurrent writers of all application
# servers together (their connection pools), so that a writer rarely finds every chain busy.
# Verification reads whatever chains exist, so raising it later needs no migration.
CHAINS = 16
# How long an independent append waits for the chain before failing (SQLite: the busy_timeout
# of ``make_engine``, also 30 s): an error is better than a request that never returns.
INDEPENDENT_WAIT_S = 30.0
# Events read per query while verifying: memory stays bounded whatever the log's size.
VERIFY_CHUNK = 2000

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_COLUMNS = tuple(c.name for c in audit_events.columns)


@dataclass(frozen=True)
class AuditEvent:
    """One stored event, as read back from ``audit_events``; ``at`` is aware, in UTC."""

    seq: int
    at: datetime
    actor: str
    role: str
    dept_uscc: str | None
    action: str
    outcome: str
    subject_id: int | None
    record_id: int | None
    batch_id: int | None
    purpose: str | None
    detail: Any
    source: str | None
    prev_hash: str
    hash: str
    chain: int = 1

    def as_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values (``at`` as ISO 8601 text)."""
        data = asdict(self)
        data["at"] = _iso(self.at)
        return data


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # events whose hash and link were checked before the first problem
    first_bad_seq: int | None
    reason: str  # in Chinese, for the operator
    first_bad_chain: int | None = None  # the chain of ``first_bad_seq``


# -- the hash ---------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive (stored as UTC); PostgreSQL aware in the session zone.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat(timespec="microseconds")


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of every column but ``hash`` (``chain``, ``seq`` and
    ``prev_hash`` included, so none can be changed without changing the hash). Chain 1 hashes
    without its number, as every event did before there were chains (migration 0020): the
    log written then still verifies."""
    doc = {name: fields[name] for name in _COLUMNS if name not in ("hash", "chain")}
    chain = fields.get("chain", 1)
    if chain != 1:
        doc["chain"] = chain
    doc["at"] = _iso(doc["at"])
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_detail(value: Any, path: str = "detail") -> None:
    """Only values whose JSON text survives both databases unchanged: PostgreSQL's JSONB
    rewrites numbers (``1e+20`` comes back as ``100000000000000000000``) and JSON turns
    integer keys into text, either of which would break the hash of an untouched event."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not stable in stored JSON; pass text or integers")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be text, not {type(key).__name__}")
            _check_detail(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_detail(item, f"{path}[{i}]")
        return
    raise TypeError(f"{path}: {type(value).__name__} cannot be stored as JSON")


def _event(row: Row[Any]) -> AuditEvent:
    data = dict(row._mapping)
    data["at"] = _utc(data["at"])
    return AuditEvent(**data)


# -- appending --------------------------------------------------------------------------------


# Built once: an append is on the path of every check and every audited read, and SQLAlchemy
# rebuilding these statements per event was its largest single cost (bench/check.py).
_HEAD = select(audit_anchor.c.seq, audit_anchor.c.hash).where(
    audit_anchor.c.id == bindparam("chain")
)
_INSERT = insert(audit_events)
_MOVE_ANCHOR = (
    update(audit_anchor)
    .where(audit_anchor.c.id == bindparam("a_chain"))
    .values(seq=bindparam("a_seq"), hash=bindparam("a_hash"), at=bindparam("a_at"))
)
# The head moves from exactly the head the event was chained onto, or not at all.
_MOVE_IF_HEAD = (
    update(audit_anchor)
    .where(
        audit_anchor.c.id == bindparam("a_chain"),
        audit_anchor.c.seq == bindparam("a_old_seq"),
        audit_anchor.c.hash == bindparam("a_old_hash"),
    )
    .values(seq=bindparam("a_seq"), hash=bindparam("a_hash"), at=bindparam("a_at"))
)
# PostgreSQL: the same move and the event's insert in one statement (data-modifying CTEs);
# the event is inserted only where the head moved. Answers how many events were inserted.
_moved = _MOVE_IF_HEAD.returning(audit_anchor.c.id).cte("moved")
_values = select(*(cast(bindparam(c.name, type_=c.type), c.type) for c in audit_events.c))
_appended = (
    insert(audit_events)
    .from_select([c.name for c in audit_events.c], _values.select_from(_moved))
    .returning(audit_events.c.seq)
    .cte("appended")
)
_APPEND_IF_HEAD = select(func.count()).select_from(_appended)
# The statements of every append, run as driver SQL compiled once (``DriverStatement``).
_RUN_INSERT = DriverStatement(_INSERT, _COLUMNS)
_RUN_MOVE_IF_HEAD = DriverStatement(_MOVE_IF_HEAD)
_RUN_APPEND_IF_HEAD = DriverStatement(_APPEND_IF_HEAD)


def append(
    conn: Connection,
    *,
    actor: str,
    role: str,
    action: str,
    outcome: str = "ok",
    dept_uscc: str | None = None,
    subject_id: int | None = None,
    record_id: int | None = None,
    batch_id: int | None = None,
    purpose: str | None = None,
    detail: Any = None,
    source: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with it).

    ``action`` is a stable dotted code ("batch.ingest", "access.denied"); ``outcome`` one of
    ok / denied / failed; ``detail`` any JSON of text, integers, booleans, lists and objects.
    """
    if not _ACTION.match(action) or len(action) > 48:
        raise ValueError(f"action must be a dotted code like 'batch.ingest', not {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    if not actor or not role:
        raise ValueError("actor and role are required")
    _check_detail(detail)
    # Take a chain before trusting any head of it, so no two writers chain onto the same event.
    # The head comes from the anchor, not from max(seq): after a removed tail the next event
    # then shows a gap instead of quietly healing the chain.
    chain, read = take_chain_reading(conn, APPEND_LOCK_KEY, CHAINS, audit_anchor)
    sqlite = is_sqlite(conn)
    key = (conn.engine.url, chain)
    guess = _HEADS.get(key) if sqlite else (read.seq, read.hash) if read is not None else None
    # Microseconds are what both databases keep; the hash is over what is read back.
    at = clock.now(conn)
    fields: dict[str, Any] = {
        "chain": chain,
        "seq": 0,
        "at": at,
        "actor": actor,
        "role": role,
        "dept_uscc": dept_uscc,
        "action": action,
        "outcome": outcome,
        "subject_id": subject_id,
        "record_id": record_id,
        "batch_id": batch_id,
        "purpose": purpose,
        "detail": detail,
        "source": source,
        "prev_hash": GENESIS_HASH,
    }
    moved = appended = False
    if guess is not None:
        # The head as last seen (the chain's read on PostgreSQL, this process's last append on
        # SQLite), moved only where it still is exactly that: one statement instead of a read
        # and a write (on PostgreSQL the event is inserted by the same statement). Either may
        # be stale (another process appended, a transaction rolled back); then nothing moved
        # and the head is read as it always was.
        _chain_onto(fields, guess)
        if sqlite:
            moved = _RUN_MOVE_IF_HEAD.execute(conn, _move_params(fields, guess)).rowcount == 1
        else:
            params = fields | _move_params(fields, guess)
            moved = appended = _RUN_APPEND_IF_HEAD.execute(conn, params).scalar_one() == 1
    if not moved:
        head = conn.execute(_HEAD, {"chain": chain}).first()
        _chain_onto(fields, (head.seq, head.hash) if head else None)
        if not conn.execute(_MOVE_ANCHOR, _move_params(fields, None)).rowcount:
            conn.execute(
                insert(audit_anchor).values(id=chain, seq=fields["seq"], hash=fields["hash"], at=at)
            )
    if not appended:
        _RUN_INSERT.execute(conn, fields)
    if sqlite:  # only a guess for the next append (checked as above): a rollback cannot mislead
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[key] = (fields["seq"], fields["hash"])
    stored = json.loads(json.dumps(detail)) if detail is not None else None
    return AuditEvent(**{**fields, "detail": stored})


def _chain_onto(fields: dict[str, Any], head: tuple[int, str] | None) -> None:
    """Number and link the event after ``head`` (None: the first of its chain), and hash it."""
    fields["seq"], fields["prev_hash"] = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    fields["hash"] = event_hash(fields)


def _move_params(fields: dict[str, Any], head: tuple[int, str] | None) -> dict[str, Any]:
    moved = {"a_chain": fields["chain"], "a_seq": fields["seq"], "a_hash": fields["hash"]}
    if head is not None:
        moved |= {"a_old_seq": head[0], "a_old_hash": head[1]}
    return moved | {"a_at": fields["at"]}


# The head of each chain as this process last moved it, by database and chain: the guess an
# append on SQLite starts from (on PostgreSQL the guess is read with the chain's lock).
_HEADS: dict[tuple[URL, int], tuple[int, str]] = {}
_HEADS_MAX = 1024


def append_independently(engine: Engine, **fields: Any) -> AuditEvent:
    """Append one event in its own, committed transaction on a new connection, so that it
    stays when the caller's transaction rolls back (an event about a refused action).

    The pattern for both databases: the request fails, its transaction rolls back, and the
    error handler calls this. PostgreSQL also allows calling it while the request's transaction
    is open, even one that has appended (the event goes to another chain). SQLite allows one
    writer at a time, so there it must come after the rollback. Either way a wait for a chain
    ends in an error after ``INDEPENDENT_WAIT_S`` seconds.
    """
    with engine.begin() as conn:
        limit_lock_wait(conn, INDEPENDENT_WAIT_S)  # a bounded wait for a chain
        return append(conn, **fields)


# -- an event for a principal -----------------------------------------------------------------


class _Own(Enum):
    DEPT = "the principal's own department"


# The default of ``dept_uscc`` below: the acting principal's department (None for operators,
# auditors, subjects and the public). Pass a code, or None, to record another.
OWN_DEPT = _Own.DEPT


def principal_fields(
    principal: Principal, dept_uscc: str | _Own | None = OWN_DEPT
) -> dict[str, Any]:
    """Who acted, as ``append`` keywords: the principal's name and role, the department
    (its own unless given) and where it came from. An empty source is stored as NULL, so that
    "unknown" has one spelling in the log."""
    return {
        "actor": principal.name,
        "role": principal.role.value,
        "dept_uscc": principal.dept_uscc if dept_uscc is OWN_DEPT else dept_uscc,
        "source": principal.source or None,
    }


def append_for(
    conn: Connection,
    principal: Principal,
    action: str,
    *,
    outcome: str = "ok",
    dept_uscc: str | _Own | None = OWN_DEPT,
    subject_id: int | None = None,
    record_id: int | None = None,
    batch_id: int | None = None,
    purpose: str | None = None,
    detail: Any = None,
) -> AuditEvent:
    """Append one event of ``principal`` acting, in the caller's transaction: the one way a
    service records who did something (``append`` stays for events whose actor is not a
    principal, e.g. a failed login of an unknown name)."""
    return append(
        conn,
        **principal_fields(principal, dept_uscc),
        action=action,
        outcome=outcome,
        subject_id=subject_id,
        record_id=record_id,
        batch_id=batch_id,
        purpose=purpose,
        detail=detail,
    )


def append_for_independently(
    engine: Engine,
    principal: Principal,
    action: str,
    *,
    outcome: str = "ok",
    dept_uscc: str | _Own | None = OWN_DEPT,
    subject_id: int | None = None,
    record_id: int | None = None,
    batch_id: int | None = None,
    purpose: str | None = None,
    detail: Any = None,
) -> AuditEvent:
    """``append_for`` in a committed transaction of its own (see ``append_independently``):
    the event of a refused or failed action whose own transaction rolled back."""
    return append_independently(
        engine,
        **principal_fields(principal, dept_uscc),
        action=action,
        outcome=outcome,
        subject_id=subject_id,
        record_id=record_id,
        batch_id=batch_id,
        purpose=purpose,
        detail=detail,
    )


# -- anchors ----------------------------------------------------------------------------------


def _heads(conn: Connection) -> dict[int, tuple[int, str, datetime]]:
    """Every chain's head from ``audit_anchor``: chain -> (seq, hash, at)."""
    return {
        r.id: (r.seq, r.hash, _utc(r.at))
        for r in conn.execute(
            select(audit_anchor.c.id, audit_anchor.c.seq, audit_anchor.c.hash, audit_anchor.c.at)
        )
    }


def heads_digest(heads: Mapping[int, tuple[int, str]]) -> str:
    """One SHA-256 over every chain's head (chain, seq, hash in chain order): the head of
    heads an operator can note down, file or sign to fix every chain at once."""
    text = "\n".join(f"{c}:{seq}:{digest}" for c, (seq, digest) in sorted(heads.items()))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def export_anchor(conn: Connection) -> dict[str, Any]:
    """Every chain's head as a small JSON document, to keep outside the database (a file, a
    ticket, another system) and check later with ``verify(conn, anchor)``. ``seq`` and
    ``hash`` are chain 1's (what an anchor held before there were chains), ``chains`` every
    chain's and ``digest`` the hash over them all."""
    heads = _heads(conn)
    if not heads:
        return {"seq": 0, "hash": GENESIS_HASH, "at": None, "chains": {}, "digest": None}
    seq, digest, _ = heads.get(1, (0, GENESIS_HASH, None))
    pairs = {c: (h[0], h[1]) for c, h in heads.items()}
    return {
        "seq": seq,
        "hash": digest,
        "at": _iso(max(h[2] for h in heads.values())),
        "chains": {str(c): {"seq": h[0], "hash": h[1]} for c, h in sorted(pairs.items())},
        "digest": heads_digest(pairs),
    }


def _bad_anchor() -> XinyongError:
    return XinyongError(
        "AUDIT_ANCHOR_INVALID",
        "审计链锚点无效：应为含 seq（非负整数）和 hash（64 位十六进制）的 JSON，"
        "或含各链链头的 chains",
    )


def _head_of(value: Any) -> tuple[int, str]:
    if not isinstance(value, Mapping):
        raise _bad_anchor()
    seq, digest = value.get("seq"), value.get("hash")
    if (
        not isinstance(seq, int)
        or isinstance(seq, bool)
        or seq < 0
        or not isinstance(digest, str)
        or not _HASH.match(digest)
    ):
        raise _bad_anchor()
    return seq, digest


def _parse_anchor(anchor: Mapping[str, Any]) -> dict[int, tuple[int, str]]:
    """The heads an exported anchor holds, by chain. An anchor from before the chains (only
    ``seq`` and ``hash``) is chain 1's head."""
    chains = anchor.get("chains")
    if chains is None or (chains == {} and anchor.get("seq")):
        seq, digest = _head_of(anchor)
        return {1: (seq, digest)} if seq else {}
    if not isinstance(chains, Mapping):
        raise _bad_anchor()
    heads: dict[int, tuple[int, str]] = {}
    for key, value in chains.items():
        if not isinstance(key, str) or not key.isdigit() or int(key) < 1:
            raise _bad_anchor()
        heads[int(key)] = _head_of(value)
    return heads


def _label(chain: int) -> str:
    # chain 1 speaks as the single chain did; the others name themselves
    return "" if chain == 1 else f"第 {chain} 号链"


def check_against(conn: Connection, anchor: Mapping[str, Any]) -> VerifyResult:
    """Whether the event at each exported head is still there with the same hash: one lookup
    per chain, catching a removed tail or a rewritten chain since the export (not a full
    ``verify``)."""
    heads = _parse_anchor(anchor)
    if not heads:
        return VerifyResult(True, 0, None, "外部锚点为空链，无可核对的事件")
    checked = 0
    for chain, (seq, digest) in sorted(heads.items()):
        stored = conn.execute(
            select(audit_events.c.hash).where(
                audit_events.c.chain == chain, audit_events.c.seq == seq
            )
        ).scalar()
        where = _label(chain)
        if stored is None:
            return VerifyResult(
                False,
                checked,
                seq,
                f"外部锚点记录的{where}第 {seq} 条事件已不存在：日志尾部被删除",
                chain,
            )
        if stored != digest:
            return VerifyResult(
                False,
                checked,
                seq,
                f"{where}第 {seq} 条事件的哈希与外部锚点不符：该事件或其之前的事件被改写",
                chain,
            )
        checked += 1
    if list(heads) == [1]:
        return VerifyResult(True, 1, None, f"外部锚点核对一致：第 {heads[1][0]} 条事件")
    return VerifyResult(True, checked, None, f"外部锚点核对一致：{checked} 条链的链头事件")


# -- verifying --------------------------------------------------------------------------------


def verify(conn: Connection, anchor: Mapping[str, Any] | None = None) -> VerifyResult:
    """Walk every chain in ``seq`` order, in chunks, and stop at the first bad event.

    Catches a changed column (hash), a deleted or reordered event (seq continuity and
    ``prev_hash``), an event moved to another chain (its hash covers the chain), a removed or
    rewritten tail (``audit_anchor``) and, with ``anchor`` (an ``export_anchor`` document kept
    elsewhere), a removed tail even when ``audit_anchor`` was rewound too.
    """
    external = _parse_anchor(anchor) if anchor is not None else {}
    heads = _heads(conn)
    chains = sorted(
        set(heads)
        | set(conn.execute(select(audit_events.c.chain).distinct()).scalars())
        | set(external)
    )
    checked = 0
    for chain in chains:
        result = _verify_chain(conn, chain, heads.get(chain), external.get(chain), checked)
        if not result.ok:
            return result
        checked = result.checked
    missing = missing_guards(conn)
    if missing:
        return VerifyResult(
            False,
            checked,
            None,
            f"审计链 {checked} 条事件本身一致，但防改写保护已被移除：{'；'.join(missing)}。"
            "日志此后可被改写而不留痕迹，请由数据库管理员按迁移 0002 恢复，并用外部锚点核对",
        )
    many = f"，{len(chains)} 条链" if len(chains) > 1 else ""
    return VerifyResult(True, checked, None, f"审计链完整：{checked} 条{many}，防改写保护在位")


def _verify_chain(
    conn: Connection,
    chain: int,
    head: tuple[int, str, datetime] | None,
    external: tuple[int, str] | None,
    checked: int,
) -> VerifyResult:
    """One chain against its head and the external anchor's; ``checked`` counts on from the
    chains before."""
    where = _label(chain)

    def bad(seq: int | None, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, seq, reason, chain)

    expected_seq, prev_hash, last_seq = 1, GENESIS_HASH, 0
    page = (
        select(audit_events)
        .where(audit_events.c.chain == chain)
        .order_by(audit_events.c.seq)
        .limit(VERIFY_CHUNK)
    )
    first = True
    while True:
        # Keyset pages rather than one streamed cursor: bounded memory on both databases,
        # with no server-side cursor to keep open. The first page has no lower bound, so an
        # event slipped in below seq 1 is seen too.
        stmt = page if first else page.where(audit_events.c.seq > last_seq)
        first = False
        rows = conn.execute(stmt).all()
        if not rows:
            break
        for row in rows:
            event = _event(row)
            if event.seq < expected_seq:
                return bad(
                    event.seq, f"出现{where}序号为 {event.seq} 的多余事件：事件未经审计服务写入"
                )
            if event.seq > expected_seq:
                return bad(
                    expected_seq,
                    f"{where}第 {expected_seq} 条事件缺失（下一条事件的序号是 {event.seq}）："
                    "事件被删除或序号被改动",
                )
            if event_hash(asdict(event)) != event.hash:
                return bad(event.seq, f"{where}第 {event.seq} 条事件的内容与其哈希不符：事件被改动")
            if event.prev_hash != prev_hash:
                return bad(
                    event.seq,
                    f"{where}第 {event.seq} 条事件未链接到第 {event.seq - 1} 条事件："
                    "前一事件被替换或改写",
                )
            if external is not None and event.seq == external[0] and event.hash != external[1]:
                return bad(
                    event.seq,
                    f"{where}第 {event.seq} 条事件的哈希与外部锚点不符：日志自该事件或更早处被改写",
                )
            checked += 1
            last_seq, prev_hash = event.seq, event.hash
            expected_seq += 1
    head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    if head_seq > last_seq:
        return bad(
            last_seq + 1,
            f"{where}链头记录到第 {head_seq} 条事件，表中只到第 {last_seq} 条：日志尾部被删除",
        )
    if head_seq < last_seq:
        return bad(
            head_seq + 1,
            f"{where}第 {head_seq + 1} 条起的事件不在链头记录之内：事件未经审计服务写入",
        )
    if head_hash != prev_hash:
        return bad(last_seq, f"{where}第 {last_seq} 条事件的哈希与链头记录不符：日志尾部被改写")
    if external is not None and external[0] > last_seq:
        return bad(
            last_seq + 1,
            f"外部锚点记录到{where}第 {external[0]} 条事件，表中只到第 {last_seq} 条："
            "日志尾部被删除",
        )
    return VerifyResult(True, checked, None, "")


# The append-only guards of migration 0002, by dialect: a trigger dropped (or, on PostgreSQL,
# disabled) or a privilege granted back leaves the chain consistent today but open to a
# rewrite tomorrow, so ``verify`` reports it.
_SQLITE_TRIGGERS = ("audit_events_no_update", "audit_events_no_delete")
_PG_TRIGGERS = ("audit_events_append_only", "audit_events_no_truncate")
_PG_APP_ROLE = "xinyong_app"


def missing_guards(conn: Connection) -> list[str]:
    """The append-only guards that are not in place, in Chinese; empty when all are."""
    if conn.dialect.name == "sqlite":
        present = set(
            conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    " AND tbl_name = 'audit_events'"
                )
            ).scalars()
        )
        return [f"触发器 {t} 不存在" for t in _SQLITE_TRIGGERS if t not in present]
    enabled: dict[str, str] = {
        row.tgname: row.tgenabled
        for row in conn.execute(
            text(
                "SELECT tgname, tgenabled FROM pg_trigger"
                " WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
            )
        )
    }
    missing = [
        f"触发器 {t} 不存在" if t not in enabled else f"触发器 {t} 已被停用"
        for t in _PG_TRIGGERS
        if enabled.get(t, "D") == "D"
    ]
    role = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": _PG_APP_ROLE}
    ).first()
    if role is not None:  # without CREATEROLE the migration leaves the role to the DBA
        for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
            if conn.execute(
                text("SELECT has_table_privilege(:r, 'audit_events', :p)"),
                {"r": _PG_APP_ROLE, "p": privilege},
            ).scalar():
                missing.append(
                    f"应用角色 {_PG_APP_ROLE} 重新获得了 audit_events 的 {privilege} 权限"
                )
    return missing


# -- searching --------------------------------------------------------------------------------


def search(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    role: str | None = None,
    outcome: str | None = None,
    subject_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: tuple[datetime, int, int] | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Events for auditors, newest first. ``since`` is inclusive, ``until`` exclusive; naive
    times are taken as UTC. ``before`` is the (time, seq, chain) of the last event of the page
    already shown: the next page starts after it, whatever was appended since."""
    # newest first across chains: by time, then by place within a chain
    stmt = (
        select(audit_events)
        .order_by(audit_events.c.at.desc(), audit_events.c.seq.desc(), audit_events.c.chain)
        .limit(max(limit, 0))
    )
    for column, value in (
        (audit_events.c.actor, actor),
        (audit_events.c.action, action),
        (audit_events.c.role, role),
        (audit_events.c.outcome, outcome),
        (audit_events.c.subject_id, subject_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    # Stored as UTC; SQLite compares the text form, so the bounds must be UTC as well.
    if since is not None:
        stmt = stmt.where(audit_events.c.at >= _utc(since))
    if until is not None:
        stmt = stmt.where(audit_events.c.at < _utc(until))
    if before is not None:
        at, seq, chain = _utc(before[0]), before[1], before[2]
        stmt = stmt.where(
            or_(
                audit_events.c.at < at,
                and_(audit_events.c.at == at, audit_events.c.seq < seq),
                and_(
                    audit_events.c.at == at,
                    audit_events.c.seq == seq,
                    audit_events.c.chain > chain,
                ),
            )
        )
    return [_event(row) for row in conn.execute(stmt)]


def get_event(conn: Connection, chain: int, seq: int) -> AuditEvent:
    row = conn.execute(
        select(audit_events).where(audit_events.c.chain == chain, audit_events.c.seq == seq)
    ).first()
    if row is None:
        raise NotFound("AUDIT_EVENT_NOT_FOUND", f"没有第 {chain} 链第 {seq} 号审计事件")
    return _event(row)


def heads(conn: Connection) -> list[dict[str, Any]]:
    """Every chain's head (the last event appended to it, and when), for the auditors' room."""
    return [
        {"chain": c, "seq": h[0], "hash": h[1], "at": h[2]} for c, h in sorted(_heads(conn).items())
    ]


def search_as(principal: Any, conn: Connection, **filters: Any) -> list[AuditEvent]:
    """``search`` for a principal: auditors and operators only (the log names who looked at
    whom, so it is non-public itself)."""
    require_role(principal, Role.AUDITOR, Role.OPERATOR)
    return search(conn, **filters)
