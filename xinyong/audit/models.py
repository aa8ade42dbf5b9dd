"""Tables of the audit log (审计日志): the hash-chained events and the anchored chain head."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from xinyong.db import Id, Json, metadata

# One row per event, never updated or deleted (triggers and grants in migration 0002). Events
# form several hash chains (migration 0020) so that concurrent writers do not queue on one
# lock; each chain is gapless on its own and has its own head in ``audit_anchor``.
# The ids of subjects, records and batches carry no foreign keys on purpose: an event must
# outlive anything it speaks about, and a failed or refused action may name ids that never
# existed.
audit_events = Table(
    "audit_events",
    metadata,
    # The chain (1..n) the event was appended to: the first whose lock was free.
    Column("chain", SmallInteger, nullable=False, server_default=text("1")),
    # Assigned by the service as the chain's previous head + 1, so that a gap is itself
    # evidence; a database sequence would leave gaps on every rollback.
    Column("seq", Id, nullable=False, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", Text, nullable=False, index=True),  # "cli:root@host" or an account name
    Column("role", String(32), nullable=False),
    Column("dept_uscc", String(18)),
    Column("action", String(48), nullable=False, index=True),  # "batch.ingest", "access.denied"
    Column("outcome", String(16), nullable=False),  # ok / denied / failed
    Column("subject_id", Id, index=True),  # who looked at my record: keyed by subject
    Column("record_id", Id),
    Column("batch_id", Id),
    Column("purpose", Text),
    Column("detail", Json),
    Column("source", Text),  # host of the command line, IP of a request
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    PrimaryKeyConstraint("chain", "seq"),
)

# The head of each chain (``id`` is the chain number), kept beside the events and moved in the
# same transaction as each append: a removed tail then leaves the head pointing past the last
# event.
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Id, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id >= 1", name="chain_number"),
)
