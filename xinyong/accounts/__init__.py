"""Accounts (账号), roles (角色), login and the API tokens (接口令牌) of department systems.

``roles`` holds the roles and the ``Principal`` every checked service call receives;
``service`` creates accounts and checks passwords (Argon2, with login throttling); ``tokens``
issues and checks API tokens.
"""
