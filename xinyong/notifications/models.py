"""Tables of the notification outbox (通知发件箱), its deliveries, webhooks and subscriptions.

An event is written in the same transaction as the change it reports, so it exists exactly when
the change committed. Each department that must hear of it gets one delivery row numbered by
that department's own counter (``seq``): the counter row is locked until commit, so within a
department the numbers become visible in order and a feed reader that remembers the last number
it saw never skips a row committed late (which a global auto-increment id would allow).
"""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from xinyong.db import Id, Json, metadata

notification_events = Table(
    "notification_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # The stable id a consumer uses to drop repeats ("evt_" + 32 hex digits).
    Column("event_uid", String(36), nullable=False, unique=True),
    # The producer's idempotence key ("list.entered:record:123:v2"): one event per key.
    Column("event_key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id")),
    Column("payload", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The last ``seq`` handed out per department; the row lock orders a department's deliveries.
notification_counters = Table(
    "notification_counters",
    metadata,
    Column("dept_uscc", String(18), primary_key=True),
    Column("last_seq", Id, nullable=False),
)

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, ForeignKey("notification_events.id"), nullable=False),
    Column("dept_uscc", String(18), nullable=False),
    Column("seq", Id, nullable=False),  # the department's feed position
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("dept_uscc", "seq"),
    UniqueConstraint("event_id", "dept_uscc"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dept_uscc", String(18), nullable=False, index=True),
    Column("url", Text, nullable=False),
    # The HMAC key itself (not a hash): the worker must sign with it. Shown once at creation.
    Column("secret", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    # = dept_uscc while active, NULL once removed: one active endpoint per department, enforced
    # by a plain unique constraint (NULLs never collide) on both databases.
    Column("active_dept", String(18), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    Column("removed_by", Text),
)

# One row per (delivery, endpoint): the push of one notification to one webhook.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", Id, ForeignKey("notification_deliveries.id"), nullable=False),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    # pending → delivered | dead (attempts used up) | cancelled (endpoint removed)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    # Due time; while a worker holds a claim it is pushed to the end of the claim's lease.
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("last_status", Integer),  # the HTTP status of the last answer, if any
    Column("delivered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("delivery_id", "endpoint_id"),
    CheckConstraint("status IN ('pending', 'delivered', 'dead', 'cancelled')", name="status"),
)
# The worker's query: due pending pushes, oldest first.
Index(
    "ix_webhook_deliveries_due", webhook_deliveries.c.status, webhook_deliveries.c.next_attempt_at
)

# 订阅: a department follows a subject it supervises and hears of every new record about it.
notification_subscriptions = Table(
    "notification_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dept_uscc", String(18), nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    UniqueConstraint("dept_uscc", "subject_id"),
)

# The in-product inbox (站内消息): one row per message to a subject (its accounts read it on
# /me) or to a department (its clerks, on /dept), e.g. every change of a case. SMS and e-mail
# copies go through ``notifications.inbox.Sender``; the inbox row is the one that is kept.
inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject_id", Id, ForeignKey("subjects.id")),  # to a subject, or
    Column("dept_uscc", String(18)),  # to a department (both NULL: the platform's operators)
    Column("case_id", Id),  # what it is about (no foreign key: the inbox outlives anything)
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("link", Text),  # the page to open, relative to the site
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Column("read_by", Text),
)
Index("ix_inbox_messages_subject_id", inbox_messages.c.subject_id, inbox_messages.c.id)
Index("ix_inbox_messages_dept_uscc", inbox_messages.c.dept_uscc, inbox_messages.c.id)
