"""check reasons: which entry triggered which measure, kept with the check

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:00:00

Issue 14 item 2: a check's page names, for each hit, its list kind and the measures it
triggers, and for a responsible person the organisation through which the entry reached them
(HN-Reg art. 35). The check answered them when it ran; they are kept with it, so the page
shows what the answer was, not what today's catalogue would say. Checks stored before this
have NULL and are shown with what the records themselves still tell.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # plain ADD COLUMNs on both databases: SQLite keeps the tables (and PostgreSQL its grants)
    op.add_column("check_hits", sa.Column("list_kind", sa.String(32), nullable=True))
    op.add_column("check_hits", sa.Column("via", _json(), nullable=True))
    op.add_column("check_measures", sa.Column("because_of", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("check_measures") as batch:
        batch.drop_column("because_of")
    with op.batch_alter_table("check_hits") as batch:
        batch.drop_column("via")
        batch.drop_column("list_kind")
