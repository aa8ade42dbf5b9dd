"""audit chains: events append to the first free of several hash chains, each with its head

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:00:00

Until now every audited action (each 联合奖惩 check, each read of non-public data, each
delivery) took one advisory lock, read the one head, appended and held the lock until commit:
the platform wrote its audit log one transaction at a time, whatever the number of servers.
Now ``audit_events.chain`` says which of several chains an event belongs to, ``seq`` counts
within its chain (primary key (chain, seq)), and ``audit_anchor`` holds one head per chain
(``id`` = chain number). A writer takes the first chain whose lock is free
(``xinyong.db.take_chain``), so concurrent writers append side by side.

Existing events are chain 1 (the column's default), and chain 1's events hash as before (the
chain number enters the hash of other chains only), so an existing log verifies unchanged and
an anchor exported before this migration still checks. SQLite rebuilds ``audit_events`` to
change its primary key; the append-only triggers of 0002 are dropped before and made again
after (SQLite has one writer at a time and always appends to chain 1).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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


def _chain_column() -> sa.Column[int]:
    return sa.Column("chain", sa.SmallInteger(), server_default=sa.text("1"), nullable=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
        with op.batch_alter_table("audit_events", recreate="always") as batch:
            batch.add_column(_chain_column())
            batch.drop_constraint(op.f("pk_audit_events"), type_="primary")
            batch.create_primary_key(op.f("pk_audit_events"), ["chain", "seq"])
        with op.batch_alter_table("audit_anchor", recreate="always") as batch:
            batch.drop_constraint(op.f("ck_audit_anchor_single_row"), type_="check")
            batch.create_check_constraint(op.f("ck_audit_anchor_chain_number"), "id >= 1")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.add_column("audit_events", _chain_column())
    op.drop_constraint(op.f("pk_audit_events"), "audit_events", type_="primary")
    op.create_primary_key(op.f("pk_audit_events"), "audit_events", ["chain", "seq"])
    op.drop_constraint(op.f("ck_audit_anchor_single_row"), "audit_anchor", type_="check")
    op.create_check_constraint(op.f("ck_audit_anchor_chain_number"), "audit_anchor", "id >= 1")


def downgrade() -> None:
    # Only a log that never used a second chain goes back to one chain: refusing beats
    # losing events or leaving two with the same seq.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_anchor WHERE id > 1")).scalar():
        raise RuntimeError("审计日志已使用多条链，不能降级到单链")
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
        with op.batch_alter_table("audit_anchor", recreate="always") as batch:
            batch.drop_constraint(op.f("ck_audit_anchor_chain_number"), type_="check")
            batch.create_check_constraint(op.f("ck_audit_anchor_single_row"), "id = 1")
        with op.batch_alter_table("audit_events", recreate="always") as batch:
            batch.drop_constraint(op.f("pk_audit_events"), type_="primary")
            batch.create_primary_key(op.f("pk_audit_events"), ["seq"])
            batch.drop_column("chain")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.drop_constraint(op.f("ck_audit_anchor_chain_number"), "audit_anchor", type_="check")
    op.create_check_constraint(op.f("ck_audit_anchor_single_row"), "audit_anchor", "id = 1")
    op.drop_constraint(op.f("pk_audit_events"), "audit_events", type_="primary")
    op.create_primary_key(op.f("pk_audit_events"), "audit_events", ["seq"])
    op.drop_column("audit_events", "chain")
