"""audit log: hash-chained events, the anchored chain head, append-only enforcement

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00

SQLite: triggers abort any UPDATE or DELETE of ``audit_events``.
PostgreSQL: the application role ``xinyong_app`` (NOLOGIN; production grants it to the web
application's login) may read and append events but never update, delete or truncate them, and
a trigger refuses UPDATE, DELETE and TRUNCATE even to the table owner. A superuser can still
drop the trigger; the hash chain and the anchors catch what follows. Grants are made in the
current schema only; the role is shared by the whole cluster and created if missing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END
    """,
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除'); END
    """,
]

PG_UPGRADE = [
    # The function lives in the current schema (first on search_path), like the tables.
    """
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '审计日志只能追加，不能修改或删除（%）', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
    # Roles belong to the cluster, not the schema: several schemas (and parallel test runs)
    # race to create it, and the loser sees duplicate_object or, when both insert at once,
    # unique_violation. A migrating user without CREATEROLE leaves it to the DBA.
    """
    DO $$
    BEGIN
        CREATE ROLE xinyong_app NOLOGIN;
    EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN
            RAISE NOTICE '无权创建角色 xinyong_app，请由数据库管理员创建后重新授权';
    END
    $$
    """,
    """
    DO $$
    DECLARE
        s text := quote_ident(current_schema());
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xinyong_app') THEN
            RETURN;
        END IF;
        EXECUTE 'GRANT USAGE ON SCHEMA ' || s || ' TO xinyong_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ' || s
            || ' TO xinyong_app';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ' || s || ' TO xinyong_app';
        -- Tables of later migrations get the same rights; one that must be append-only
        -- revokes them itself, as below.
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || s
            || ' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO xinyong_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || s
            || ' GRANT USAGE, SELECT ON SEQUENCES TO xinyong_app';
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM xinyong_app;
        REVOKE DELETE, TRUNCATE ON audit_anchor FROM xinyong_app;
    END
    $$
    """,
]

PG_DOWNGRADE = [
    """
    DO $$
    DECLARE
        s text := quote_ident(current_schema());
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xinyong_app') THEN
            RETURN;
        END IF;
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || s
            || ' REVOKE ALL ON TABLES FROM xinyong_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || s
            || ' REVOKE ALL ON SEQUENCES FROM xinyong_app';
        EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA ' || s || ' FROM xinyong_app';
        EXECUTE 'REVOKE ALL ON ALL SEQUENCES IN SCHEMA ' || s || ' FROM xinyong_app';
        EXECUTE 'REVOKE USAGE ON SCHEMA ' || s || ' FROM xinyong_app';
    END
    $$
    """,
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP FUNCTION audit_events_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", Id, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("dept_uscc", sa.String(length=18), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("subject_id", Id, nullable=True),
        sa.Column("record_id", Id, nullable=True),
        sa.Column("batch_id", Id, nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("detail", Json, nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)
    op.create_index(op.f("ix_audit_events_actor"), "audit_events", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"], unique=False)
    op.create_index(
        op.f("ix_audit_events_subject_id"), "audit_events", ["subject_id"], unique=False
    )
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", Id, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_anchor_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
    )
    statements = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else PG_UPGRADE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("DROP TRIGGER audit_events_no_update")
    else:
        for statement in PG_DOWNGRADE:
            op.execute(statement)
    op.drop_table("audit_anchor")
    op.drop_index(op.f("ix_audit_events_subject_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_action"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_actor"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
