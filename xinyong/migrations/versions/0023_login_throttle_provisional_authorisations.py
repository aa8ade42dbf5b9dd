"""login throttle per address and account; paper authorisations provisional until confirmed

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 12:00:00

Issue 11 item 4. ``login_throttle`` replaces the per-account failure count and lock of
``accounts`` (anyone who knew a username could keep that account locked, and a locked account
answered differently from an unknown name). ``authorisations`` gains its confirmation: an
online grant is confirmed as it is made; a paper one recorded by a clerk stays provisional
until an operator other than its recorder confirms it or the subject accepts it online. Paper
authorisations recorded before this migration become provisional too: nobody but the recorder
ever vouched for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("username_key", sa.String(64)),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "kind IN ('pair', 'address', 'account')", name=op.f("ck_login_throttle_kind")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(op.f("ix_login_throttle_username_key"), "login_throttle", ["username_key"])
    op.create_index(
        op.f("ix_login_throttle_last_failure_at"), "login_throttle", ["last_failure_at"]
    )
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    with op.batch_alter_table("authorisations") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("confirmed_by", sa.Text()))
        batch.add_column(sa.Column("confirmed_role", sa.String(16)))
    op.execute(
        "UPDATE authorisations SET confirmed_at = created_at, confirmed_by = created_by,"
        " confirmed_role = created_role WHERE channel = 'online'"
    )
    with op.batch_alter_table("authorisations") as batch:
        batch.create_check_constraint(
            op.f("ck_authorisations_online_confirmed"),
            "channel = 'paper' OR confirmed_at IS NOT NULL",
        )
        batch.create_check_constraint(
            op.f("ck_authorisations_confirmed"),
            "(confirmed_at IS NULL) = (confirmed_by IS NULL AND confirmed_role IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("authorisations") as batch:
        batch.drop_constraint("ck_authorisations_confirmed", type_="check")
        batch.drop_constraint("ck_authorisations_online_confirmed", type_="check")
        batch.drop_column("confirmed_role")
        batch.drop_column("confirmed_by")
        batch.drop_column("confirmed_at")
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True)))
    op.drop_index(op.f("ix_login_throttle_last_failure_at"), table_name="login_throttle")
    op.drop_index(op.f("ix_login_throttle_username_key"), table_name="login_throttle")
    op.drop_table("login_throttle")
