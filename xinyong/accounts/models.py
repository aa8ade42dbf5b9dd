"""Tables of accounts (账号) and the API tokens (接口令牌) of department systems."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from xinyong.db import Id, Json, metadata

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
    # The password was set by an operator (a new account's, a reset): known to two people, so
    # its holder must choose their own at the next login before doing anything else.
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
    Column("disabled_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
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

# 信用信息查询授权: a subject's written authorisation for one requesting department to query
# its 授权查询 information for one purpose, within a validity. Never deleted (PostgreSQL: no
# DELETE for the application role, migration 0007): a revoked or expired authorisation still
# explains the queries made under it.
authorisations = Table(
    "authorisations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False),
    # 统一社会信用代码 of the requesting department (查询单位), one of the catalogue's departments.
    Column("dept_uscc", String(18), nullable=False),
    # 查询用途, whitespace-normalised by the service: a query must name the same purpose.
    Column("purpose", Text, nullable=False),
    # Dataset codes the authorisation covers; NULL covers every 授权查询 dataset.
    Column("datasets", Json),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    # online: granted by the subject on the portal; paper: a signed paper form, scanned.
    Column("channel", String(8), nullable=False),
    # The scan of a paper authorisation: a random file name under data_dir/authorisations,
    # its SHA-256 (so that a replaced file is caught), type, size and the name it came with.
    Column("scan_file", String(64)),
    Column("scan_sha256", String(64)),
    Column("scan_type", String(16)),
    Column("scan_size", Integer),
    Column("scan_name", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),  # the principal's name, as in the audit log
    Column("created_role", String(16), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", Text),
    Column("revoke_reason", Text),
    # A paper authorisation is provisional (gives no access) until a second person confirms
    # it: an operator other than the one who recorded it, or the subject accepting it online.
    # An online grant is the subject's own act, confirmed as it is made.
    Column("confirmed_at", DateTime(timezone=True)),
    Column("confirmed_by", Text),
    Column("confirmed_role", String(16)),
    CheckConstraint("channel IN ('online', 'paper')", name="channel"),
    CheckConstraint("channel = 'paper' OR confirmed_at IS NOT NULL", name="online_confirmed"),
    CheckConstraint(
        "(confirmed_at IS NULL) = (confirmed_by IS NULL AND confirmed_role IS NULL)",
        name="confirmed",
    ),
    CheckConstraint("valid_until > valid_from", name="validity"),
    # A paper authorisation without its scan is an unverifiable claim.
    CheckConstraint(
        "(channel = 'paper') = (scan_file IS NOT NULL AND scan_sha256 IS NOT NULL)",
        name="paper_scan",
    ),
    CheckConstraint(
        "(revoked_at IS NULL) = (revoked_by IS NULL AND revoke_reason IS NULL)", name="revoked"
    ),
)
# Every check looks up one subject and one requester.
Index(
    "ix_authorisations_subject_id_dept_uscc",
    authorisations.c.subject_id,
    authorisations.c.dept_uscc,
)
Index("ix_authorisations_dept_uscc", authorisations.c.dept_uscc)

# Consecutive failed logins per client address, per username and address, and per username
# (``accounts/throttle.py``): the key is the SHA-256 of what is counted, so a username typed
# by mistake (perhaps a password) is never stored in clear, and unknown usernames are counted
# exactly like existing ones.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    # SHA-256 of the username, on its pair and account rows: an operator's new password
    # clears them all, from every address.
    Column("username_key", String(64), index=True),
    Column("failures", Integer, nullable=False),
    # Rows a day past their last failure count for nothing and are pruned on the next failure.
    Column("last_failure_at", DateTime(timezone=True), nullable=False, index=True),
    Column("locked_until", DateTime(timezone=True)),
    CheckConstraint("kind IN ('pair', 'address', 'account')", name="kind"),
)
