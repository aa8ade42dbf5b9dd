"""credit evaluation: runs, results per subject and the current run of each model

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 04:00:00

Issue 15: a run of an evaluation model is written whole and the model's pointer
(evaluation_current) moves to it in the same transaction; every past run stays readable.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("subject_id", Id),
        sa.Column("base_run_id", Id),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("model_hash", sa.String(64), nullable=False),
        sa.Column("indicators", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_evaluation_runs_model_id", "evaluation_runs", ["model", "id"])
    op.create_table(
        "evaluation_results",
        sa.Column("run_id", Id, sa.ForeignKey("evaluation_runs.id"), nullable=False),
        sa.Column("subject_id", Id, sa.ForeignKey("subjects.id"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("class", sa.String(8)),
        sa.Column("hard", sa.String(32)),
        sa.Column("points", sa.Text(), nullable=False),
        sa.Column("industry", sa.String(16)),
        sa.Column("district", sa.String(16)),
        sa.PrimaryKeyConstraint("run_id", "subject_id"),
    )
    op.create_index("ix_evaluation_results_subject_id", "evaluation_results", ["subject_id"])
    op.create_table(
        "evaluation_current",
        sa.Column("model", sa.String(32), primary_key=True),
        sa.Column("run_id", Id, sa.ForeignKey("evaluation_runs.id"), nullable=False),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("evaluation_current")
    op.drop_index("ix_evaluation_results_subject_id", table_name="evaluation_results")
    op.drop_table("evaluation_results")
    op.drop_index("ix_evaluation_runs_model_id", table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
