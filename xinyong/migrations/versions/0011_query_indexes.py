"""query indexes: the public API's per-subject counts and the data's "as of" as index reads

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 07:00:00

Measured with bench/query.py (1M subjects, 5M records):

- a subject's profile counts its visible records per dataset, filtered by state and publicity
  end; with (subject_id, dataset, state, publicity_max_end) the count reads the index alone,
  instead of every record row (its JSON) of the subject. The index replaces
  ``ix_records_subject_id``, whose every use it serves (same leading column), so that a
  delivery still writes as many indexes per record as before;
- every answer carries "as of", the newest ``batches.finished_at`` (of some datasets): with
  these indexes that is one index probe per dataset, not a scan of every batch ever received.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECORDS_VISIBLE = ["subject_id", "dataset", "state", "publicity_max_end"]


def upgrade() -> None:
    op.create_index(
        op.f("ix_records_subject_id_dataset_state_publicity_max_end"),
        "records",
        _RECORDS_VISIBLE,
    )
    op.drop_index("ix_records_subject_id", table_name="records")
    op.create_index(op.f("ix_batches_finished_at"), "batches", ["finished_at"])
    op.create_index(op.f("ix_batches_dataset_finished_at"), "batches", ["dataset", "finished_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_batches_dataset_finished_at"), table_name="batches")
    op.drop_index(op.f("ix_batches_finished_at"), table_name="batches")
    op.create_index("ix_records_subject_id", "records", ["subject_id"])
    op.drop_index(
        op.f("ix_records_subject_id_dataset_state_publicity_max_end"), table_name="records"
    )
