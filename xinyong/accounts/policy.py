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


def may_act_on(principal: Principal, owner_uscc: str | None, *, reading: bool = False) -> bool:
    """Whether ``principal`` may act on a record (or batch, check, subscription, webhook) of the
    department ``owner_uscc``: operators on every department's, clerks and department systems
    on their own department's only. With ``reading``, auditors too: they oversee every
    department but change nothing. The one answer to "operator or the record's own
    department"; ``require_may_act_on`` turns it into a refusal."""
    if principal.role is Role.OPERATOR:
        return True
    if reading and principal.role is Role.AUDITOR:
        return True
    return (
        principal.role in DEPARTMENT_ROLES
        and owner_uscc is not None
        and principal.dept_uscc == owner_uscc
    )


def require_may_act_on(
    principal: Principal,
    owner_uscc: str | None,
    *,
    what: str,
    reading: bool = False,
    hide: bool = False,
    message: str | None = None,
) -> None:
    """Refuse unless ``may_act_on``. ``what`` names the thing (batch, check, record,
    subscription, webhook). With ``hide`` the refusal is ``{WHAT}_NOT_FOUND`` with ``message``,
    which must be the caller's own wording for a missing one, so that another department's
    ids reveal nothing (checks, batches: their existence and numbering are department
    business); otherwise it is ``DEPT_NOT_OWN``, the one code for "not your department's",
    with ``message`` or a general wording."""
    if may_act_on(principal, owner_uscc, reading=reading):
        return
    label = _WHAT.get(what, what)
    if hide:
        raise NotFound(f"{what.upper()}_NOT_FOUND", message or f"没有找到该{label}")
    raise NotAllowed("DEPT_NOT_OWN", message or f"只有平台管理员或本部门可以操作本部门的{label}")


_WHAT = {
    "batch": "批次",
    "check": "核查记录",
    "record": "记录",
    "subscription": "订阅",
    "webhook": "推送地址",
}
