"""The table of submitting departments (报送部门), operational data kept in the database."""

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, String, Table, Text

from xinyong.db import Id, Json, metadata

departments = Table(
    "departments",
    metadata,
    # The id only keeps the catalogue's order for listings; departments are named by their code.
    Column("id", Id, primary_key=True, autoincrement=True),
    # 统一社会信用代码 of the unit, checked (GB 32100) before it is stored.
    Column("uscc", String(18), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    # 行政区划代码 (GB/T 2260) of the unit.
    Column("division", String(6), nullable=False),
    # Codes of the datasets (数据集) the unit may submit, in the order given.
    Column("datasets", Json, nullable=False),
    # A disabled department delivers nothing more; what it delivered before stays.
    Column("enabled", Boolean, nullable=False),
    # 'catalog' (seeded from departments.yaml) or 'operator' (added by a platform operator).
    Column("origin", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Text, nullable=False),
    CheckConstraint("origin IN ('catalog', 'operator')", name="origin"),
)
