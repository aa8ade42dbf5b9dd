"""Tables of credit records (信用记录) and their history.

``records`` holds the version in force of every record; ``record_versions`` every version it
replaced. A new record is therefore one insert (the bulk path stays close to the raw insert
limit), and a corrected resubmission moves the old version into history, never overwriting it.
Records are never deleted: withdrawal (撤销) and the end of publicity are states.
"""

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from xinyong.db import Id, Json, metadata

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dataset", String(32), nullable=False),
    # the dataset's natural key, normalised and joined; unique within the dataset
    Column("natural_key", Text, nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id")),  # NULL while pending a link
    Column("database", String(8), nullable=False),  # 政务 / 法人 / 自然人
    Column("dept_uscc", String(18), nullable=False),  # the department that owns the record
    # 公示中 / 异议中 / 已修复 / 期满停止公示 / 已撤销
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("data", Json, nullable=False),  # normalised values by item code
    # the row as received, as the cells its normalised data does not reproduce:
    # {column index: text}; see records.service.original_row
    Column("raw", Json, nullable=False),
    Column("decision_date", Date),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("pending_reason", Text),  # why the record waits for a subject link
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_by", Text),
    Column("withdrawn_reason", Text),
    # 公示期限 computed from the catalogue's rule set in force on the decision date
    # (xinyong.disclosure.publicity): the rule set's id, the penalty class (轻微/一般/严重),
    # the day repair may be applied for (修复起算), and the last day of publicity (公示截止;
    # `xinyong daily` stops publicity after it). NULL where no rule speaks about the record.
    Column("publicity_rule", String(48)),
    Column("publicity_class", String(8)),
    Column("publicity_min_end", Date),
    Column("publicity_max_end", Date),
    UniqueConstraint("dataset", "natural_key"),
)
# Every hot query is keyed by subject (DESIGN: "no cross-subject joins on the request path");
# the other columns let a profile count what a principal may see from the index alone (0011).
Index(
    "ix_records_subject_id_dataset_state_publicity_max_end",
    records.c.subject_id,
    records.c.dataset,
    records.c.state,
    records.c.publicity_max_end,
)
# The public lists (双公示, 红黑榜) read one (dataset, state) at a time in page order, from a
# cursor on (decision_date, id): an index range scan whatever the depth of the page (0019).
Index(
    "ix_records_dataset_state_decision_date_id",
    records.c.dataset,
    records.c.state,
    records.c.decision_date,
    records.c.id,
)
# The same lists filtered by a department: that department's range of each (dataset, state)
# in page order, instead of the whole range read past the other departments' rows (0025).
Index(
    "ix_records_dataset_state_dept_uscc_decision_date_id",
    records.c.dataset,
    records.c.state,
    records.c.dept_uscc,
    records.c.decision_date,
    records.c.id,
)
# The daily expiry finds the published records past their end without reading the others.
Index("ix_records_state_publicity_max_end", records.c.state, records.c.publicity_max_end)

# Other keys that lead to a record. A pending record (keyed by its subject's name) that a clerk
# links is re-keyed by the subject's code; its old key stays here, so that the department's
# next delivery of the same uncoded row finds the record instead of filing it again.
record_keys = Table(
    "record_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dataset", String(32), nullable=False),
    Column("natural_key", Text, nullable=False),
    Column("record_id", Id, ForeignKey("records.id"), nullable=False),
    UniqueConstraint("dataset", "natural_key"),
)

record_versions = Table(
    "record_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("subject_id", Id),
    Column("dept_uscc", String(18), nullable=False),
    Column("state", String(16), nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("data", Json, nullable=False),
    Column("raw", Json, nullable=False),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=False),
    Column("superseded_by_batch", Id),  # NULL when replaced by a clerk's action (link, withdraw)
    Column("change", Text, nullable=False),  # why the version ended: 更正 / 关联主体 / 撤销
    UniqueConstraint("record_id", "version"),
)
