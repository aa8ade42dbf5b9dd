"""accounts: a password set by an operator must be replaced at the next login

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 18:00:00

A new account's password made on the operator's page, and every reset, is known to the
operator as well as to the holder: ``must_change_password`` makes the holder's next login
choose a password of their own before anything else. Accounts that exist keep working as
they are (false).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("must_change_password")
