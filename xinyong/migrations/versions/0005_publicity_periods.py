"""publicity periods

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:00:00

Each record carries its computed 公示期限 (xinyong.disclosure.publicity): the rule set used,
the penalty class, the minimum end (repair possible from) and the maximum end (automatic stop).
Records stored before this revision keep NULLs until a new delivery recomputes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("publicity_rule", "publicity_class", "publicity_min_end", "publicity_max_end")


def upgrade() -> None:
    op.add_column("records", sa.Column("publicity_rule", sa.String(48), nullable=True))
    op.add_column("records", sa.Column("publicity_class", sa.String(8), nullable=True))
    op.add_column("records", sa.Column("publicity_min_end", sa.Date(), nullable=True))
    op.add_column("records", sa.Column("publicity_max_end", sa.Date(), nullable=True))
    op.create_index(
        op.f("ix_records_state_publicity_max_end"), "records", ["state", "publicity_max_end"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_records_state_publicity_max_end"), table_name="records")
    # SQLite before 3.35 cannot drop a column: batch mode rebuilds the table there.
    with op.batch_alter_table("records") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
