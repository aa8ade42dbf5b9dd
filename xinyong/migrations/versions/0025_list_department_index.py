"""list department index: the public lists filtered by department read their own range

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:30:00

A 双公示 or 红黑榜 page filtered by a department (``dept``) read, in each (dataset, public state)
branch, the range of ``ix_records_dataset_state_decision_date_id`` from its newest record on and
dropped the other departments' rows one by one until a page was found: with one department
among many, thousands of rows per page. With the department in the index, after the dataset and
the state, the branch is a range of that department's records in page order (issue 13).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_records_dataset_state_dept_uscc_decision_date_id"),
        "records",
        ["dataset", "state", "dept_uscc", "decision_date", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_records_dataset_state_dept_uscc_decision_date_id"), table_name="records")
