"""working-day deadlines marked provisional

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:00:00

A feedback deadline counted through a year whose holiday schedule (the State Council notice)
is not known yet is computed Monday to Friday and marked provisional (暂定); ``deadline_days``
keeps the number of working days it counts, so that it can be counted again exactly once the
year's calendar file is added (``xinyong daily``).

Deadlines stored before this revision were counted the same way (Monday to Friday past the
last year ``chinese_calendar`` knew, 2026) without saying so: those ending in 2027 or later
are marked provisional here, with their count left NULL for the recount to work out.
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "checks",
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("checks", sa.Column("deadline_days", sa.SmallInteger(), nullable=True))
    checks = sa.table(
        "checks", sa.column("deadline", sa.Date()), sa.column("deadline_provisional", sa.Boolean())
    )
    op.execute(
        checks.update()
        .where(checks.c.deadline >= sa.literal(date(2027, 1, 1), sa.Date()))
        .values(deadline_provisional=sa.true())
    )


def downgrade() -> None:
    # SQLite before 3.35 cannot drop a column: batch mode rebuilds the table there.
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("deadline_days")
        batch.drop_column("deadline_provisional")
