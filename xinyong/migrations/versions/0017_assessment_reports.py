"""assessment reports: the monthly department assessment (考核通报) as published

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 12:00:00

Issue 16 item 4: an operator publishes a month's assessment on the portal; the ranking, scores
and reasons are kept as computed then, so that later corrections of the data do not rewrite a
published 通报.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "assessment_reports",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("body", Json, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Text(), nullable=False),
    )
    op.create_index("ix_assessment_reports_period", "assessment_reports", ["period"])


def downgrade() -> None:
    op.drop_index("ix_assessment_reports_period", table_name="assessment_reports")
    op.drop_table("assessment_reports")
