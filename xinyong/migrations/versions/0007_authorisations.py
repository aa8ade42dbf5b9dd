"""authorisations (信用信息查询授权)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 06:00:00

PostgreSQL: the application role ``xinyong_app`` gets the table through the default privileges
of 0002, except DELETE and TRUNCATE: an authorisation is revoked, never deleted, so that every
query made under it stays explained.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

PG_REVOKE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xinyong_app') THEN
        REVOKE DELETE, TRUNCATE ON authorisations FROM xinyong_app;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "authorisations",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("datasets", Json, nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("scan_file", sa.String(length=64), nullable=True),
        sa.Column("scan_sha256", sa.String(length=64), nullable=True),
        sa.Column("scan_type", sa.String(length=16), nullable=True),
        sa.Column("scan_size", sa.Integer(), nullable=True),
        sa.Column("scan_name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_role", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('online', 'paper')", name=op.f("ck_authorisations_channel")
        ),
        sa.CheckConstraint("valid_until > valid_from", name=op.f("ck_authorisations_validity")),
        sa.CheckConstraint(
            "(channel = 'paper') = (scan_file IS NOT NULL AND scan_sha256 IS NOT NULL)",
            name=op.f("ck_authorisations_paper_scan"),
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL AND revoke_reason IS NULL)",
            name=op.f("ck_authorisations_revoked"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_authorisations_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
    )
    op.create_index(
        "ix_authorisations_subject_id_dept_uscc",
        "authorisations",
        ["subject_id", "dept_uscc"],
        unique=False,
    )
    op.create_index("ix_authorisations_dept_uscc", "authorisations", ["dept_uscc"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_REVOKE)


def downgrade() -> None:
    op.drop_index("ix_authorisations_dept_uscc", table_name="authorisations")
    op.drop_index("ix_authorisations_subject_id_dept_uscc", table_name="authorisations")
    op.drop_table("authorisations")
