"""delivery jobs: a delivery over the web waits as a job until the worker ingests it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00

Issue 11 item 3: an upload is accepted with 202 and a job id, then ingested off the request
path; the job's state (queued, running, done, failed) is kept here so that a restart loses
nothing and a crashed job is visible with its reason.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delivery_jobs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("dept_uscc", sa.String(18), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("account_id", Id),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("worker", sa.Text()),
        sa.Column("batch_id", Id, sa.ForeignKey("batches.id")),
        sa.Column("error_code", sa.String(48)),
        sa.Column("error_message", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_delivery_jobs_dept_uscc", "delivery_jobs", ["dept_uscc"])
    op.create_index("ix_delivery_jobs_state_id", "delivery_jobs", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_jobs_state_id", table_name="delivery_jobs")
    op.drop_index("ix_delivery_jobs_dept_uscc", table_name="delivery_jobs")
    op.drop_table("delivery_jobs")
