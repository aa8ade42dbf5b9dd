"""The table of issued credit reports (公共信用信息报告): one row per report number.

The snapshot is stored as the exact text that was hashed, never as parsed JSON: PostgreSQL's
JSONB would reorder keys and change the bytes, and verification is a recomputation of the hash
over what is stored. Rows are never updated (PostgreSQL: the application role has no UPDATE or
DELETE, migration 0008), so a report number always verifies to the same content.
"""

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, String, Table, Text

from xinyong.db import Id, metadata

credit_reports = Table(
    "credit_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("report_no", String(32), nullable=False, unique=True),  # 报告编号
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # public: 公开版; self: 主体本人版
    Column("snapshot", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("sha256", String(64), nullable=False),
    Column("snapshot_at", DateTime(timezone=True), nullable=False),  # 数据截至时间
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_to", Text, nullable=False),  # the principal's name ("public", an account)
    Column("issued_role", String(16), nullable=False),
    # SHA-256 of the PDF file as issued (报告文件摘要): a file is verified byte for byte;
    # NULL for reports issued before migration 0022 (their file is rendered again instead)
    Column("pdf_sha256", String(64)),
    CheckConstraint("kind IN ('public', 'self')", name="kind"),
)
