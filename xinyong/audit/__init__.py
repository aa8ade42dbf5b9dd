"""The tamper-evident, append-only audit log (审计日志): who did what to which subject or
record, when, why and from where. See ``service`` for the chain and what it protects against."""

from xinyong.audit.service import (
    OWN_DEPT,
    AuditEvent,
    VerifyResult,
    append,
    append_for,
    append_for_independently,
    append_independently,
    check_against,
    export_anchor,
    principal_fields,
    search,
    verify,
)

__all__ = [
    "OWN_DEPT",
    "AuditEvent",
    "VerifyResult",
    "append",
    "append_for",
    "append_for_independently",
    "append_independently",
    "check_against",
    "export_anchor",
    "principal_fields",
    "search",
    "verify",
]
