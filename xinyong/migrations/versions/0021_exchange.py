"""exchange: the change feed, data packages sent and received, acknowledgements per record

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 12:00:00

Issue 16 items 1-3: every change of a record or list entry numbered (exchange_changes, with
what the feed last said of each record in exchange_seen), the packages exchanged with the
province and the nation (exchange_packages), and the per-record answers of their
acknowledgements (exchange_results).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exchange_changes",
        sa.Column("seq", Id, primary_key=True, autoincrement=True),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("dept_uscc", sa.String(18), nullable=False),
        sa.Column("subject_id", Id),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("entry_status", sa.String(8)),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("operation", sa.String(3), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("batch_id", Id),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_exchange_changes_record_id", "exchange_changes", ["record_id"])
    op.create_table(
        "exchange_seen",
        sa.Column("record_id", Id, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("entry_status", sa.String(8)),
        sa.Column("seq", Id, nullable=False),
    )
    op.create_table(
        "exchange_packages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("node", sa.String(16), nullable=False),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("first_seq", Id),
        sa.Column("last_seq", Id),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("adds", sa.Integer(), nullable=False),
        sa.Column("mods", sa.Integer(), nullable=False),
        sa.Column("dels", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("accepted", sa.Integer()),
        sa.Column("rejected", sa.Integer()),
        sa.Column("batch_id", Id, sa.ForeignKey("batches.id")),
        sa.Column("due_on", sa.Date()),
        sa.Column("due_provisional", sa.Boolean()),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("verified_by", sa.Text()),
        sa.Column("verify_note", sa.Text()),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_exchange_packages_direction_status", "exchange_packages", ["direction", "status"]
    )
    op.create_table(
        "exchange_results",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("package_id", Id, sa.ForeignKey("exchange_packages.id"), nullable=False),
        sa.Column("seq", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("dept_uscc", sa.String(18), nullable=False),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reason_code", sa.String(32)),
        sa.Column("reason", sa.Text()),
        sa.Column("detail", Json),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_exchange_results_dept_uscc_status", "exchange_results", ["dept_uscc", "status"]
    )
    op.create_index("ix_exchange_results_package_id", "exchange_results", ["package_id"])


def downgrade() -> None:
    op.drop_index("ix_exchange_results_package_id", table_name="exchange_results")
    op.drop_index("ix_exchange_results_dept_uscc_status", table_name="exchange_results")
    op.drop_table("exchange_results")
    op.drop_index("ix_exchange_packages_direction_status", table_name="exchange_packages")
    op.drop_table("exchange_packages")
    op.drop_table("exchange_seen")
    op.drop_index("ix_exchange_changes_record_id", table_name="exchange_changes")
    op.drop_table("exchange_changes")
