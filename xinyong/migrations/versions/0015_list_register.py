"""list register: the list kind (名单类别) of each entry and its responsible persons

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 10:00:00

Issue 10 items 2 and 4: ``list_entries.list_kind`` holds the entry's kind from
``catalog/lists`` (measures trigger on kinds, not on whole list datasets); entries stored
before this revision keep NULL until their department delivers them again.
``list_entry_persons`` links an organisation's entry to its responsible persons
(河南省社会信用条例 art. 35) as natural-person subjects.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("list_entries") as batch:
        batch.add_column(sa.Column("list_kind", sa.String(32), nullable=True))
    op.create_table(
        "list_entry_persons",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_list_entry_persons_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entry_persons_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry_persons")),
    )
    op.create_index(op.f("ix_list_entry_persons_subject_id"), "list_entry_persons", ["subject_id"])
    op.create_index(op.f("ix_list_entry_persons_record_id"), "list_entry_persons", ["record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_list_entry_persons_record_id"), table_name="list_entry_persons")
    op.drop_index(op.f("ix_list_entry_persons_subject_id"), table_name="list_entry_persons")
    op.drop_table("list_entry_persons")
    with op.batch_alter_table("list_entries") as batch:
        batch.drop_column("list_kind")
