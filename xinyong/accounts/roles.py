"""Roles (角色) and the acting principal (操作主体) that every checked service call receives.

A principal is what the service layer sees of whoever acts: a logged-in account, a department
system presenting its token, the local command line, or the anonymous public. It carries what
authorisation needs (role, department, own subject) and what the audit log records (name,
source); it never carries a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    CLERK = "clerk"
    DEPT_SYSTEM = "dept_system"
    AUDITOR = "auditor"
    SUBJECT = "subject"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        """The Chinese name users see."""
        return _LABELS[self]


_LABELS: dict[Role, str] = {
    Role.OPERATOR: "平台管理员（信用办）",
    Role.CLERK: "部门经办人",
    Role.DEPT_SYSTEM: "部门系统",
    Role.AUDITOR: "审计员",
    Role.SUBJECT: "信用主体本人",
    Role.PUBLIC: "社会公众",
}

# 政务共享 data is for these roles only (Henan art. 18).
GOVERNMENT_ROLES: frozenset[Role] = frozenset(
    {Role.OPERATOR, Role.CLERK, Role.DEPT_SYSTEM, Role.AUDITOR}
)

# Roles that act for one submitting department and so must name it.
DEPARTMENT_ROLES: frozenset[Role] = frozenset({Role.CLERK, Role.DEPT_SYSTEM})

# The anonymous public never has an account: it is who acts when nobody is logged in.
ACCOUNT_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.PUBLIC)

_CLI_PREFIX = "cli:"


@dataclass(frozen=True)
class Principal:
    """Who acts. ``name`` is what the audit log records as the actor: the account's username,
    ``cli:user@host`` for the command line, or ``public``; ``source`` is where the action came
    from (the host of the command line, the client address of a request)."""

    role: Role
    name: str
    account_id: int | None = None
    dept_uscc: str | None = None
    subject_id: int | None = None
    source: str = ""

    @property
    def is_government(self) -> bool:
        return self.role in GOVERNMENT_ROLES

    @property
    def is_cli(self) -> bool:
        return self.account_id is None and self.name.startswith(_CLI_PREFIX)

    @classmethod
    def cli(cls, os_user_and_host: str) -> Principal:
        """The built-in operator of the local command line. Whoever can run the command on the
        server already holds the database; recording the OS user and host is what makes the
        command line's changes attributable (issue 3). Accepts ``user@host`` or the
        ``cli:user@host`` form of ``xinyong.cli.context.actor``."""
        who = os_user_and_host.removeprefix(_CLI_PREFIX)
        host = who.rpartition("@")[2] if "@" in who else ""
        return cls(role=Role.OPERATOR, name=f"{_CLI_PREFIX}{who}", source=host or "cli")

    @classmethod
    def public(cls, source: str) -> Principal:
        """The anonymous public, e.g. a portal visitor from ``source`` (the client address)."""
        return cls(role=Role.PUBLIC, name="public", source=source)
