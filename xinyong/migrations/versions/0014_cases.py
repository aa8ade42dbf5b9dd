"""cases (objections, repair, complaints) and the in-product inbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:30:00

One case model for objections (异议), credit repair (信用修复) and complaints (失信举报): the case
as it stands, its append-only history and its uploaded files; and the inbox messages that
tell subjects and departments of every change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_no", sa.String(24), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("subject_id", Id, sa.ForeignKey("subjects.id")),
        sa.Column("record_id", Id, sa.ForeignKey("records.id")),
        sa.Column("target", sa.String(16)),
        sa.Column("dept_uscc", sa.String(18)),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("assignee", sa.Text()),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", Json),
        sa.Column("reporter", Json),
        sa.Column("filed_by", sa.Text(), nullable=False),
        sa.Column("filed_role", sa.String(16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("deadline_days", sa.SmallInteger(), nullable=False),
        sa.Column("paused_days", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("dept_notified_on", sa.Date()),
        sa.Column("dept_deadline_days", sa.SmallInteger()),
        sa.Column("dept_deadline", sa.Date()),
        sa.Column(
            "dept_deadline_provisional", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
        sa.Column("paused_on", sa.Date()),
        sa.Column("pause_cause", sa.String(16)),
        sa.Column("state_before_pause", sa.String(16)),
        sa.Column("outcome", sa.String(24)),
        sa.Column("outcome_reason", sa.Text()),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.Text()),
        sa.Column("closed_on_time", sa.Boolean()),
        sa.Column("follow_code_hash", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_cases_dept_uscc_state_deadline", "cases", ["dept_uscc", "state", "deadline"]
    )
    op.create_index("ix_cases_subject_id", "cases", ["subject_id"])
    op.create_index("ix_cases_record_id", "cases", ["record_id"])
    op.create_table(
        "case_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("detail", Json),
        sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "case_files",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("event_id", Id, sa.ForeignKey("case_events.id")),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("original_name", sa.Text()),
        sa.Column("media_type", sa.String(16), nullable=False),
        sa.Column("size", Id, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_files_case_id", "case_files", ["case_id"])
    op.create_table(
        "inbox_messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("subject_id", Id, sa.ForeignKey("subjects.id")),
        sa.Column("dept_uscc", sa.String(18)),
        sa.Column("case_id", Id),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("read_by", sa.Text()),
    )
    op.create_index("ix_inbox_messages_subject_id", "inbox_messages", ["subject_id", "id"])
    op.create_index("ix_inbox_messages_dept_uscc", "inbox_messages", ["dept_uscc", "id"])


def downgrade() -> None:
    op.drop_table("inbox_messages")
    op.drop_table("case_files")
    op.drop_table("case_events")
    op.drop_table("cases")
