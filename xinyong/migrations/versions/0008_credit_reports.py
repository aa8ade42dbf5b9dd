"""credit reports

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 06:00:00

PostgreSQL: the application role ``xinyong_app`` may insert and read issued reports but never
change or delete one, so that a report number always verifies to the content it was issued
with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PG_REVOKE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xinyong_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON credit_reports FROM xinyong_app;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "credit_reports",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("report_no", sa.String(length=32), nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_to", sa.Text(), nullable=False),
        sa.Column("issued_role", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('public', 'self')", name=op.f("ck_credit_reports_kind")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_credit_reports_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_reports")),
        sa.UniqueConstraint("report_no", name=op.f("uq_credit_reports_report_no")),
    )
    op.create_index(
        op.f("ix_credit_reports_subject_id"), "credit_reports", ["subject_id"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_REVOKE)


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_reports_subject_id"), table_name="credit_reports")
    op.drop_table("credit_reports")
