"""report files: the SHA-256 of each credit report's PDF as issued

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 12:00:00

Issue 14 item 6: /verify takes the file itself and says whether it is, byte for byte, the one
the platform issued. Reports issued before this column have NULL; their file is rendered again
from the stored snapshot to compare.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN on both databases: SQLite keeps the table (and PostgreSQL its grants)
    op.add_column("credit_reports", sa.Column("pdf_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credit_reports") as batch:
        batch.drop_column("pdf_sha256")
