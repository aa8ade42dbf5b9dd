"""departments as operational data

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:00:00

Submitting departments (报送部门) move from ``catalog/departments.yaml`` into a table that
operators change with audited commands. The table starts empty: the catalogue's departments are
seeded into it by ``xinyong db upgrade`` and on first use (``xinyong.departments.seed``), which
knows the configured catalogue directory and a migration does not.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("division", sa.String(length=6), nullable=False),
        sa.Column("datasets", Json, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.CheckConstraint("origin IN ('catalog', 'operator')", name=op.f("ck_departments_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("uscc", name=op.f("uq_departments_uscc")),
    )


def downgrade() -> None:
    op.drop_table("departments")
