"""Tables of delivery batches (归集批次) and what was wrong with their rows."""

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from xinyong.db import Id, Json, metadata

batches = Table(
    "batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dataset", String(32), nullable=False, index=True),
    Column("dept_uscc", String(18), nullable=False, index=True),
    Column("actor", Text, nullable=False),  # who delivered: OS user on the CLI, account on the web
    Column("channel", String(8), nullable=False),  # cli / api / web
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False, index=True),
    Column("file_format", String(8), nullable=False),  # csv / xlsx / jsonl
    Column("encoding", String(16)),
    Column("mapping", Json),
    # the file's header row, and the item code each header fed (null: not in the catalogue);
    # with them a record's normalised data and its raw cells give back the row as received
    Column("headers", Json),
    Column("columns", Json),  # the mapping file's content, when one was used
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("received", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("pending", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
)

# Every answer's "as of" is the newest finished_at (of some datasets): index probes (0011).
Index("ix_batches_finished_at", batches.c.finished_at)
Index("ix_batches_dataset_finished_at", batches.c.dataset, batches.c.finished_at)

# One row per rejected row: the original cells (to write a rejects file again at any time)
# and every problem found in it.
batch_rejects = Table(
    "batch_rejects",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, index=True),
    Column("row_no", Integer, nullable=False),
    Column("raw", Json, nullable=False),  # all cells, in the order of batches.headers
    Column("errors", Json, nullable=False),  # [{field, value, code, message}]
)

batch_warnings = Table(
    "batch_warnings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, index=True),
    Column("row_no", Integer, nullable=False),
    Column("field", String(64)),
    Column("value", Text),
    Column("code", String(48), nullable=False),
    Column("message", Text, nullable=False),
)

# A delivery over the web waits here as a job (报送任务) until the worker has ingested it:
# queued → running → done (with its batch) or failed (with a code and a Chinese reason). The
# state lives in the database so that a restart loses no job and a crashed one stays visible.
delivery_jobs = Table(
    "delivery_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("state", String(8), nullable=False),  # queued / running / done / failed
    Column("dataset", String(32), nullable=False),
    Column("dept_uscc", String(18), nullable=False, index=True),
    Column("file_name", Text, nullable=False),
    Column("path", Text, nullable=False),  # the stored upload (named by its SHA-256)
    Column("channel", String(8), nullable=False),  # api / web
    # who delivered, as the principal the worker acts as
    Column("actor", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("account_id", Id),
    Column("source", Text, nullable=False),
    Column("worker", Text),  # host:pid of the process running it (a dead one: crashed)
    Column("batch_id", Id, ForeignKey("batches.id")),
    Column("error_code", String(48)),
    Column("error_message", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)
Index("ix_delivery_jobs_state_id", delivery_jobs.c.state, delivery_jobs.c.id)
