"""measures, lists lifecycle and checks: list notices, entries and events; checks, their hits
and measures (with the feedback in place)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 06:00:00

The measures list itself is catalogue data (``catalog/measures/*.yaml``), not tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "list_notices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("record_id", Id, nullable=True),
        sa.Column("doc_no", sa.Text(), nullable=True),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("measures", Json, nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("objection_until", sa.Date(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_list_notices_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_notices_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_notices")),
    )
    op.create_index(op.f("ix_list_notices_subject_id"), "list_notices", ["subject_id"])
    op.create_table(
        "list_entries",
        sa.Column("record_id", Id, autoincrement=False, nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("exited_on", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("prior_notice_id", Id, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prior_notice_id"],
            ["list_notices.id"],
            name=op.f("fk_list_entries_prior_notice_id_list_notices"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_list_entries_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_list_entries")),
    )
    op.create_index(op.f("ix_list_entries_subject_id"), "list_entries", ["subject_id"])
    op.create_index(
        op.f("ix_list_entries_status_valid_until"), "list_entries", ["status", "valid_until"]
    )
    op.create_table(
        "list_events",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("batch_id", Id, nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_list_events_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_events")),
    )
    op.create_index(op.f("ix_list_events_subject_id"), "list_events", ["subject_id"])
    op.create_index(op.f("ix_list_events_record_id"), "list_events", ["record_id"])
    op.create_table(
        "checks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("matter", sa.String(length=32), nullable=False),
        sa.Column("case_ref", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("previous_id", Id, nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_checks_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
    )
    op.create_index(op.f("ix_checks_dept_uscc_name"), "checks", ["dept_uscc", "name"])
    op.create_index(op.f("ix_checks_deadline"), "checks", ["deadline"])
    op.create_table(
        "check_hits",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("check_id", Id, nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name=op.f("fk_check_hits_check_id_checks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_hits")),
    )
    op.create_index(op.f("ix_check_hits_check_id"), "check_hits", ["check_id"])
    op.create_table(
        "check_measures",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("check_id", Id, nullable=False),
        sa.Column("subject_id", Id, nullable=False),
        sa.Column("measure_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("obligation", sa.String(length=8), nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("reason_code", sa.String(length=8), nullable=True),
        sa.Column("action_date", sa.Date(), nullable=True),
        sa.Column("case_ref", sa.Text(), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name=op.f("fk_check_measures_check_id_checks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_measures")),
        sa.UniqueConstraint(
            "check_id",
            "subject_id",
            "measure_id",
            name=op.f("uq_check_measures_check_id_subject_id_measure_id"),
        ),
    )
    op.create_index(op.f("ix_check_measures_dept_uscc"), "check_measures", ["dept_uscc"])


def downgrade() -> None:
    op.drop_index(op.f("ix_check_measures_dept_uscc"), table_name="check_measures")
    op.drop_table("check_measures")
    op.drop_index(op.f("ix_check_hits_check_id"), table_name="check_hits")
    op.drop_table("check_hits")
    op.drop_index(op.f("ix_checks_deadline"), table_name="checks")
    op.drop_index(op.f("ix_checks_dept_uscc_name"), table_name="checks")
    op.drop_table("checks")
    op.drop_index(op.f("ix_list_events_record_id"), table_name="list_events")
    op.drop_index(op.f("ix_list_events_subject_id"), table_name="list_events")
    op.drop_table("list_events")
    op.drop_index(op.f("ix_list_entries_status_valid_until"), table_name="list_entries")
    op.drop_index(op.f("ix_list_entries_subject_id"), table_name="list_entries")
    op.drop_table("list_entries")
    op.drop_index(op.f("ix_list_notices_subject_id"), table_name="list_notices")
    op.drop_table("list_notices")
