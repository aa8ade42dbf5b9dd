"""Tables of checks (核查), what they found, the measures they returned, and the feedback.

One ``checks`` row per single or bulk check; ``check_hits`` the records (list entries and
others) found, with their state at the time, so that a bulk check can be compared with the
department's previous one of the same name; ``check_measures`` one row per measure and subject
returned, carrying the department's feedback (applied / not applied, reason, date, case
reference) in place: a measure has exactly one feedback.
"""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from xinyong.db import Id, Json, metadata

checks = Table(
    "checks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # single / bulk
    Column("dept_uscc", String(18)),  # the checking department (NULL: the platform operator)
    Column("actor", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("matter", String(32), nullable=False),
    Column("case_ref", Text),  # the department's case reference (业务编号)
    Column("name", Text),  # a bulk check's name, e.g. "许可证持有人月度核查"
    Column("subject_id", Id, ForeignKey("subjects.id")),  # single checks
    Column("rows", Integer, nullable=False),
    Column("subjects", Integer, nullable=False),
    Column("hits", Integer, nullable=False),
    Column("previous_id", Id),  # the bulk check this one was compared with
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("checked_on", Date, nullable=False),  # Beijing date
    Column("deadline", Date),  # feedback due; NULL when no measure needs feedback
    # counted through a year without a known holiday schedule: Monday to Friday, 暂定
    Column("deadline_provisional", Boolean, nullable=False, server_default=false()),
    Column("deadline_days", SmallInteger),  # the working days counted, to count them again
)
Index("ix_checks_dept_uscc_name", checks.c.dept_uscc, checks.c.name)
Index("ix_checks_deadline", checks.c.deadline)

check_hits = Table(
    "check_hits",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("check_id", Id, ForeignKey("checks.id"), nullable=False),
    Column("subject_id", Id, nullable=False),
    Column("record_id", Id, nullable=False),
    Column("dataset", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("dept_uscc", String(18), nullable=False),
    Column("decision_date", Date),
    Column("valid_until", Date),
    Column("list_kind", String(32)),  # 名单类别 of a list entry, as the check read it
    # HN-Reg art. 35: [role, organisation name, code] when the entry reached the subject
    # checked as a responsible person of the listed organisation
    Column("via", Json),
)
Index("ix_check_hits_check_id", check_hits.c.check_id)

check_measures = Table(
    "check_measures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("check_id", Id, ForeignKey("checks.id"), nullable=False),
    Column("subject_id", Id, nullable=False),
    Column("measure_id", String(32), nullable=False),
    Column("kind", String(12), nullable=False),  # reward / punishment
    Column("obligation", String(8), nullable=False),  # must / may
    Column("dept_uscc", String(18)),  # copied from the check, for the statistics
    Column("because_of", Json),  # the ids of the hit records that triggered it
    # feedback (反馈): applied / not_applied, a reason code, the action date, the case reference
    Column("outcome", String(12)),
    Column("reason_code", String(8)),
    Column("action_date", Date),
    Column("case_ref", Text),
    Column("feedback_at", DateTime(timezone=True)),
    Column("feedback_by", Text),
    UniqueConstraint("check_id", "subject_id", "measure_id"),
)
Index("ix_check_measures_dept_uscc", check_measures.c.dept_uscc)
