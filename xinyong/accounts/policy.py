"""Authorisation checks (权限校验) that service functions call with the acting principal.

The web and CLI layers never decide who may do what; services call these and raise
``NotAllowed`` with a stable code, which the layers turn into a 403 and an audit event.
"""

from __future__ import annotations

from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.errors import NotAllowed, NotFound


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise NotAllowed(
            "ROLE_NOT_ALLOWED",
            f"{principal.role.label}无权进行此操作（限：{'、'.join(r.label for r in roles)}）",
        )


def department_scope(principal: Principal) -> str | None:
    """The department whose data a principal may read: its own for clerks and department
    systems, every department (None) for operators and auditors; nobody else reads
    department data."""
    if principal.role in DEPARTMENT_ROLES:
        assert principal.dept_uscc is not None  # the accounts table guarantees it
        return principal.dept_uscc
    require_role(principal, Role.OPERATOR, Role.AUDITOR)
    return None


def acting_department(principal: Principal, dept_uscc: str | None) -> str:
    """The department a change is made for: a clerk or department system acts only for its
    own (and need not name it); an operator must name one."""
    if principal.role in DEPARTMENT_ROLES:
        own = principal.dept_uscc or ""
        if dept_uscc and dept_uscc.strip().upper() != own:
            raise NotAllowed("DEPT_NOT_OWN", "只能以本部门的名义报送或操作")
        return own
    require_role(principal, Role.OPERATOR)
    if not dept_uscc:
        raise NotAllowed("DEPT_REQUIRED", "平台管理员操作时须指明部门")
    return dept_uscc.strip().upper()


def check_department_owns(principal: Principal, owner_uscc: str, *, what: str) -> None:
    """A department principal may touch only what its department owns. The refusal says
    'not found' so that another department's ids reveal nothing."""
    scope = department_scope(principal)
    if scope is not None and scope != owner_uscc:
        raise NotFound(f"{what.upper()}_NOT_FOUND", f"没有找到该{_WHAT.get(what, what)}")


_WHAT = {"batch": "批次", "check": "核查记录", "record": "记录"}
