"""Tables of accounts (账号) and the API tokens (接口令牌) of department systems."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from xinyong.db import Id, metadata

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Stored lower-case (the service normalises), so uniqueness is case-insensitive everywhere.
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    # 统一社会信用代码 of the department a clerk or department system acts for.
    Column("dept_uscc", String(18)),
    # The subject (信用主体) a self-service account speaks for.
    Column("subject_id", Id, ForeignKey("subjects.id")),
    # Argon2 PHC string; NULL for department systems, which only ever present a token.
    Column("password_hash", Text),
    Column("disabled_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    # Consecutive failed logins since the last success or lock; drives login throttling.
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    # The anonymous public has no account; the list repeats roles.Role on purpose, so that
    # adding a role is a deliberate migration.
    CheckConstraint(
        "role IN ('operator', 'clerk', 'dept_system', 'auditor', 'subject')", name="role"
    ),
    # A second line of defence behind the service: a clerk without a department would escape
    # every department-scoped check.
    CheckConstraint(
        "(role IN ('clerk', 'dept_system')) = (dept_uscc IS NOT NULL)", name="dept_scope"
    ),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    # SHA-256 (hex) of the secret. The secret is 256 random bits, so a fast hash is enough
    # (no dictionary to attack) and lets every request find its token by one index lookup.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)
