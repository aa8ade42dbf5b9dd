"""Accounts (账号), roles (角色), login and the API tokens (接口令牌) of department systems.

``roles`` holds the roles and the ``Principal`` every checked service call receives;
``service`` creates accounts and checks passwords (Argon2, with login throttling); ``tokens``
issues and checks API tokens.
"""

from xinyong.accounts.roles import GOVERNMENT_ROLES, Principal, Role
from xinyong.accounts.service import (
    Account,
    LoginRefused,
    authenticate,
    create_account,
    disable_account,
    list_accounts,
)
from xinyong.accounts.tokens import TokenInfo, issue_token, principal_for_token, revoke_token

__all__ = [
    "GOVERNMENT_ROLES",
    "Account",
    "LoginRefused",
    "Principal",
    "Role",
    "TokenInfo",
    "authenticate",
    "create_account",
    "disable_account",
    "issue_token",
    "list_accounts",
    "principal_for_token",
    "revoke_token",
]
