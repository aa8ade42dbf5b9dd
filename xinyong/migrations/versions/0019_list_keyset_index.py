"""list keyset index: the public lists read by (dataset, state, decision date, id)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:40:00

The 双公示 and 红黑榜 pages (``xinyong.portal.service._listing``) page by a cursor on
(decision_date, id) instead of an offset, one branch per (dataset, public state): with this
index each branch is a range scan that stops after one page, at any depth. Before it, a page
counted every matching record over an index that did not lead with the dataset and walked the
offset (issue 13: 1.6-10 s a page at 314k penalties).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_records_dataset_state_decision_date_id"),
        "records",
        ["dataset", "state", "decision_date", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_records_dataset_state_decision_date_id"), table_name="records")
