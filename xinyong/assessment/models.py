"""Published assessment reports (考核通报): each the assessment as computed when published."""

from sqlalchemy import Column, DateTime, String, Table, Text

from xinyong.db import Id, Json, metadata

assessment_reports = Table(
    "assessment_reports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("period", String(7), nullable=False, index=True),  # 2026-11
    # the whole assessment (ranking, scores, indicators, reasons) as published
    Column("body", Json, nullable=False),
    Column("note", Text, nullable=False),  # the operator's words above the ranking
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("published_by", Text, nullable=False),
)
