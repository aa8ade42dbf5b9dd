"""Tables of the subject registry (信用主体).

One row per legal person, natural person, individual business or government body. Every
identifier points at it; names and former names (曾用名) hang off it. A merged subject keeps a
redirect (``merged_into``) so that old links still resolve.
"""

from sqlalchemy import Column, DateTime, ForeignKey, Index, String, Table, Text, UniqueConstraint

from xinyong.db import Id, metadata

subjects = Table(
    "subjects",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # 行政相对人类别: 法人及非法人组织 / 个体工商户 / 自然人
    Column("category", String(16), nullable=False),
    # which of the three databases (政务 / 法人 / 自然人) the subject belongs to
    Column("database", String(8), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_norm", Text, nullable=False),
    Column("uscc", String(18), unique=True),
    Column("org_code", String(9), index=True),
    Column("reg_no", String(15), index=True),
    Column("id_number", String(18), unique=True),  # 居民身份证号码, always 18 digits
    Column("other_id", String(80), unique=True),  # other documents: "护照:E12345678"
    Column("status", Text),  # 登记状态 from 法人登记基础信息
    Column("merged_into", Id, ForeignKey("subjects.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_subjects_name_norm", subjects.c.name_norm)

subject_names = Table(
    "subject_names",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_norm", Text, nullable=False),
    # current: the name in force; former: 曾用名 per 法人登记; seen: a spelling a department used
    Column("kind", String(8), nullable=False),
    Column("first_batch_id", Id),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subject_id", "name_norm"),
)
Index("ix_subject_names_name_norm", subject_names.c.name_norm)
