"""Tables of cases (办件): objections (异议), credit repair (信用修复) and complaints (失信举报).

One model for the three kinds, so that every department's queue, deadline, pause and history
works the same way whatever the case is about; what differs by kind (outcomes, deadlines,
routing) is in ``cases.kinds``. ``cases`` holds the case as it stands; ``case_events`` is the
append-only history of everything that happened to it (who, when, why, from which state to
which); ``case_files`` the evidence and material uploaded, stored outside the web root under
random names (``cases.files``).
"""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    false,
)

from xinyong.db import Id, Json, metadata

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # what people quote: kind prefix, receipt date and a sequence, e.g. YY20261207-0001
    Column("case_no", String(24), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # objection / repair / complaint
    # received / handling / paused / closed (cases.states)
    Column("state", String(16), nullable=False),
    # the subject the case is about (a complaint may name one the registry does not hold yet)
    Column("subject_id", Id, ForeignKey("subjects.id")),
    # the record or list entry the case is about (a list entry is a record of a list dataset)
    Column("record_id", Id, ForeignKey("records.id")),
    Column("target", String(16)),  # record / list_entry / subject
    # whose queue the case is in: a department's USCC, or NULL for the platform (信用办)
    Column("dept_uscc", String(18)),
    Column("route", String(16), nullable=False),  # platform / department
    Column("assignee", Text),  # the account name handling it, NULL while unassigned
    Column("channel", String(8), nullable=False),  # online / window / api / cli
    Column("reason", Text, nullable=False),  # what the filer asks and why
    Column("detail", Json),  # what a kind needs beyond the common columns
    # a complaint's reporter: never shown to the subject (kept apart from ``detail``)
    Column("reporter", Json),
    Column("filed_by", Text, nullable=False),  # the principal's name, as in the audit log
    Column("filed_role", String(16), nullable=False),
    Column("received_on", Date, nullable=False),  # 受理日期: counting starts the day after
    # the deadline: received_on + deadline_days + paused_days working days (暂定 through an
    # unknown year); dept_deadline the department's own part (e.g. 3 days to verify)
    Column("deadline_days", SmallInteger, nullable=False),
    Column("paused_days", SmallInteger, nullable=False, server_default="0"),
    Column("deadline", Date, nullable=False),
    Column("deadline_provisional", Boolean, nullable=False, server_default=false()),
    Column("dept_notified_on", Date),
    Column("dept_deadline_days", SmallInteger),
    Column("dept_deadline", Date),
    Column("dept_deadline_provisional", Boolean, nullable=False, server_default=false()),
    Column("paused_on", Date),  # while paused: since when
    Column("pause_cause", String(16)),  # inspection / material
    Column("state_before_pause", String(16)),
    Column("outcome", String(24)),  # set once, with outcome_reason, when closed
    Column("outcome_reason", Text),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", Text),
    Column("closed_on_time", Boolean),
    # SHA-256 of the code given to the filer to follow the case without logging in
    Column("follow_code_hash", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
# the queues: a department's open cases by deadline
Index("ix_cases_dept_uscc_state_deadline", cases.c.dept_uscc, cases.c.state, cases.c.deadline)
Index("ix_cases_subject_id", cases.c.subject_id)
Index("ix_cases_record_id", cases.c.record_id)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False, index=True),
    # filed / assigned / routed / note / material_requested / material_received / paused /
    # resumed / decided / withdrawn
    Column("kind", String(24), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("actor", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("reason", Text),
    Column("detail", Json),
    # notes between staff are not shown to the subject
    Column("internal", Boolean, nullable=False, server_default=false()),
    Column("at", DateTime(timezone=True), nullable=False),
)

case_files = Table(
    "case_files",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False, index=True),
    Column("event_id", Id, ForeignKey("case_events.id")),
    Column("stored_name", String(64), nullable=False),  # random, under data_dir/cases
    Column("original_name", Text),
    Column("media_type", String(16), nullable=False),  # pdf / jpeg / png, by content
    Column("size", Id, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", Text, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)
