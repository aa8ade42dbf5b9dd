"""Tables of the exchange (数据交换).

``exchange_changes`` is the change feed: one numbered row per change of a record or list entry,
in the order the platform saw them; ``exchange_seen`` what the feed last said of each record, so
that the next capture finds what changed by comparing, set-based. ``exchange_packages`` holds
every data package sent or received, ``exchange_results`` the per-record answers of an
acknowledgement (回执) from the receiving platform.
"""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from xinyong.db import Id, Json, metadata

exchange_changes = Table(
    "exchange_changes",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),  # the feed's sequence number
    Column("record_id", Id, nullable=False),
    Column("dataset", String(32), nullable=False),
    Column("dept_uscc", String(18), nullable=False),
    Column("subject_id", Id),
    Column("version", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("entry_status", String(8)),  # the list entry's status (listed / exited), if one
    # new / corrected / withdrawn / objection_opened / objection_closed / repaired / expired /
    # listed_exit / changed
    Column("event", String(20), nullable=False),
    Column("operation", String(3), nullable=False),  # ADD / MOD / DEL (GB/T 39443 body)
    # whether the disclosure rules let the change leave the platform (exchange, pull feed)
    Column("shared", Boolean, nullable=False),
    Column("batch_id", Id),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_exchange_changes_record_id", exchange_changes.c.record_id)

exchange_seen = Table(
    "exchange_seen",
    metadata,
    Column("record_id", Id, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("entry_status", String(8)),
    Column("seq", Id, nullable=False),  # the change that said so
)

exchange_packages = Table(
    "exchange_packages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("guid", String(36), nullable=False, unique=True),
    Column("direction", String(3), nullable=False),  # out / in
    Column("node", String(16), nullable=False),  # the other end's node id
    Column("dataset", String(32), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("first_seq", Id),  # outbound: the feed range the package covers
    Column("last_seq", Id),
    Column("records", Integer, nullable=False),
    Column("adds", Integer, nullable=False),
    Column("mods", Integer, nullable=False),
    Column("dels", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),  # SHA-256 of the body file
    # out: sent → acknowledged; in: received → verified (or returned)
    Column("status", String(12), nullable=False),
    Column("accepted", Integer),
    Column("rejected", Integer),
    Column("batch_id", Id, ForeignKey("batches.id")),  # inbound: the delivery it became
    Column("due_on", Date),  # inbound: verify by (Henan art. 17: 5 working days)
    Column("due_provisional", Boolean),
    Column("verified_at", DateTime(timezone=True)),
    Column("verified_by", Text),
    Column("verify_note", Text),
    Column("actor", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
)
Index(
    "ix_exchange_packages_direction_status",
    exchange_packages.c.direction,
    exchange_packages.c.status,
)

exchange_results = Table(
    "exchange_results",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("package_id", Id, ForeignKey("exchange_packages.id"), nullable=False),
    Column("seq", Id, nullable=False),
    Column("record_id", Id, nullable=False),
    Column("dept_uscc", String(18), nullable=False),
    Column("dataset", String(32), nullable=False),
    Column("status", String(8), nullable=False),  # accepted / rejected
    Column("reason_code", String(32)),
    Column("reason", Text),
    Column("detail", Json),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index(
    "ix_exchange_results_dept_uscc_status", exchange_results.c.dept_uscc, exchange_results.c.status
)
Index("ix_exchange_results_package_id", exchange_results.c.package_id)
