"""notifications: outbox events, per-department deliveries, webhooks, subscriptions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 06:00:00

PostgreSQL: the application role ``xinyong_app`` gets these tables through the default
privileges of 0002.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "notification_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("event_uid", sa.String(length=36), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_notification_events_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_notification_events_event_key")),
        sa.UniqueConstraint("event_uid", name=op.f("uq_notification_events_event_uid")),
    )
    op.create_table(
        "notification_counters",
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("last_seq", Id, nullable=False),
        sa.PrimaryKeyConstraint("dept_uscc", name=op.f("pk_notification_counters")),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("seq", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_notification_deliveries_event_id_notification_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "dept_uscc", "seq", name=op.f("uq_notification_deliveries_dept_uscc_seq")
        ),
        sa.UniqueConstraint(
            "event_id", "dept_uscc", name=op.f("uq_notification_deliveries_event_id_dept_uscc")
        ),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("active_dept", sa.String(length=18), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("active_dept", name=op.f("uq_webhook_endpoints_active_dept")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_dept_uscc"), "webhook_endpoints", ["dept_uscc"], unique=False
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("delivery_id", Id, nullable=False),
        sa.Column("endpoint_id", Id, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead', 'cancelled')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            name=op.f("fk_webhook_deliveries_delivery_id_notification_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "delivery_id",
            "endpoint_id",
            name=op.f("uq_webhook_deliveries_delivery_id_endpoint_id"),
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "notification_subscriptions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_notification_subscriptions_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_subscriptions")),
        sa.UniqueConstraint(
            "dept_uscc",
            "subject_id",
            name=op.f("uq_notification_subscriptions_dept_uscc_subject_id"),
        ),
    )
    op.create_index(
        op.f("ix_notification_subscriptions_subject_id"),
        "notification_subscriptions",
        ["subject_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_notification_subscriptions_subject_id"), table_name="notification_subscriptions"
    )
    op.drop_table("notification_subscriptions")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhook_endpoints_dept_uscc"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_counters")
    op.drop_table("notification_events")
