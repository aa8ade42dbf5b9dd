"""Server-side login sessions (会话) of the web application.

The cookie holds a random session id; the table holds only its SHA-256, so a copy of the
database does not let anyone take over a session. A new id is issued at every login (no
session fixation) and the row is deleted at logout or expiry.
"""

from sqlalchemy import Column, DateTime, ForeignKey, String, Table, Text

from xinyong.db import Id, metadata

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
)
