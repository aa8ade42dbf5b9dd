"""Tables of the lists lifecycle (名单管理).

A list entry *is* a record of a list dataset (SXHMD, YZSX, SXBZX, JYYC, ZDGZ); ``list_entries``
keeps what the lifecycle needs of it in typed, indexed columns (dates, status, the prior notice
it rests on), so that expiry and checks never read the JSON of the record. ``list_events`` is
the append-only history from which a subject's list state at any past date is answered;
``list_notices`` holds the written prior notices (事前告知) and the exit notices (移出公告).
"""

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, String, Table, Text

from xinyong.db import Id, Json, metadata

list_notices = Table(
    "list_notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # prior (事前告知) / exit (移出公告)
    Column("dataset", String(32), nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False),
    Column("dept_uscc", String(18), nullable=False),  # the designating department
    Column("record_id", Id, ForeignKey("records.id")),  # the entry it led to / ended
    Column("doc_no", Text),  # 告知书文号
    Column("basis", Text, nullable=False),  # 认定依据 / 移出依据
    Column("reasons", Text, nullable=False),  # 事实和理由 / 移出原因
    Column("measures", Json, nullable=False),  # ids of the measures the listing triggers
    Column("served_on", Date, nullable=False),  # 送达日期 / 公告日期
    Column("objection_until", Date),  # the last day to object (prior notices)
    Column("actor", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_list_notices_subject_id", list_notices.c.subject_id)

list_entries = Table(
    "list_entries",
    metadata,
    Column("record_id", Id, ForeignKey("records.id"), primary_key=True, autoincrement=False),
    Column("dataset", String(32), nullable=False),
    Column("list_kind", String(32)),  # 名单类别 (catalog/lists); NULL for entries before 0015
    Column("subject_id", Id, ForeignKey("subjects.id")),
    Column("dept_uscc", String(18), nullable=False),
    Column("listed_on", Date),
    Column("valid_until", Date),  # NULL: until removed
    Column("exited_on", Date),
    # period_over (期满) / performed (履行义务) / repaired (信用修复) / withdrawn / source
    Column("exit_reason", String(16)),
    Column("status", String(8), nullable=False),  # listed / exited
    Column("prior_notice_id", Id, ForeignKey("list_notices.id")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_list_entries_subject_id", list_entries.c.subject_id)
Index("ix_list_entries_status_valid_until", list_entries.c.status, list_entries.c.valid_until)

list_events = Table(
    "list_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id"), nullable=False),
    Column("subject_id", Id),
    Column("dataset", String(32), nullable=False),
    # entered / changed / objected / objection_closed / repaired / exited / expired
    Column("kind", String(16), nullable=False),
    Column("on_date", Date, nullable=False),  # the day the event takes effect
    Column("valid_until", Date),  # the entry's validity as of this event
    Column("batch_id", Id),
    Column("actor", Text, nullable=False),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_list_events_subject_id", list_events.c.subject_id)
Index("ix_list_events_record_id", list_events.c.record_id)

# HN-Reg art. 35: the responsible persons of an organisation's list entry (法定代表人/主要负责人,
# 实际控制人, 直接责任人), each linked as a natural-person subject when an ID number was given.
# Rewritten from the entry's record whenever a delivery creates or changes it.
list_entry_persons = Table(
    "list_entry_persons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id"), nullable=False),
    Column("role", String(16), nullable=False),  # legal_rep / controller / responsible
    Column("name", Text, nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id")),  # the person; NULL without an ID
)
Index("ix_list_entry_persons_subject_id", list_entry_persons.c.subject_id)
Index("ix_list_entry_persons_record_id", list_entry_persons.c.record_id)
