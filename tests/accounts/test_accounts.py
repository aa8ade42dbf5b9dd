"""Accounts, roles, passwords, login throttling and API tokens, on every test database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, insert, select

from xinyong.accounts import service, throttle, tokens
from xinyong.accounts.models import accounts, api_tokens, login_throttle
from xinyong.accounts.roles import GOVERNMENT_ROLES, Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.errors import XinyongError
from xinyong.models import metadata
from xinyong.subjects.models import subjects

CLI = Principal.cli("test@host")

SAMR = "11410900PY0000022L"  # 濮阳市市场监督管理局, in catalog/departments.yaml
UNKNOWN_DEPT = "91410902MA0000000X"
PASSWORD = "Puyang-credit-2024"
T0 = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 Beijing time


def _subject(conn: Connection) -> int:
    subject_id = conn.scalar(
        insert(subjects)
        .values(
            category="法人及非法人组织",
            database="法人",
            name="濮阳市华龙区鑫源商贸有限公司",
            name_norm="濮阳市华龙区鑫源商贸有限公司",
            created_at=T0,
            updated_at=T0,
        )
        .returning(subjects.c.id)
    )
    assert subject_id is not None
    return int(subject_id)


def _create(conn: Connection, catalog: Catalog, **kw: Any) -> service.Account:
    args: dict[str, Any] = {
        "username": "zhangsan",
        "role": Role.OPERATOR,
        "display_name": "张三",
        "password": PASSWORD,
        "created_by": "cli:test@host",
        "by": CLI,
        "now": T0,
    }
    args.update(kw)
    return service.create_account(conn, catalog, **args)


def _refused(code: str, fn: Any, *args: Any, **kw: Any) -> XinyongError:
    with pytest.raises(XinyongError) as caught:
        fn(*args, **kw)
    assert caught.value.code == code, caught.value.message
    return caught.value


# -- roles and principals --------------------------------------------------------------------


def test_roles_have_chinese_labels_and_government_roles_exclude_the_public() -> None:
    assert Role.CLERK.label == "部门经办人"
    assert all(r.label and not r.label.isascii() for r in Role)
    assert {Role.OPERATOR, Role.CLERK, Role.DEPT_SYSTEM, Role.AUDITOR} == GOVERNMENT_ROLES


def test_cli_and_public_principals() -> None:
    cli = Principal.cli("cli:wang@server1")
    assert cli == Principal.cli("wang@server1")
    assert (cli.role, cli.name, cli.source, cli.account_id) == (
        Role.OPERATOR,
        "cli:wang@server1",
        "server1",
        None,
    )
    assert cli.is_government and cli.is_cli
    public = Principal.public("203.0.113.9")
    assert (public.role, public.source, public.is_government) == (Role.PUBLIC, "203.0.113.9", False)


# -- creating accounts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "dept", "with_subject", "password"),
    [
        (Role.OPERATOR, None, False, PASSWORD),
        (Role.CLERK, SAMR, False, PASSWORD),
        (Role.DEPT_SYSTEM, SAMR, False, None),  # token only
        (Role.AUDITOR, None, False, PASSWORD),
        (Role.SUBJECT, None, True, PASSWORD),
    ],
)
def test_create_each_role(
    engine: Engine,
    catalog: Catalog,
    role: Role,
    dept: str | None,
    with_subject: bool,
    password: str | None,
) -> None:
    with engine.begin() as conn:
        subject_id = _subject(conn) if with_subject else None
        account = _create(
            conn,
            catalog,
            username="  User.One@SAMR ",
            role=role.value,
            dept_uscc=dept.lower() if dept else None,
            subject_id=subject_id,
            password=password,
        )
    assert account.username == "user.one@samr"
    assert (account.role, account.dept_uscc, account.subject_id) == (role, dept, subject_id)
    assert account.has_password is (password is not None)
    assert account.created_at == T0
    with engine.connect() as conn:
        (listed,) = service.list_accounts(conn)
        stored = conn.execute(select(accounts.c.password_hash)).scalar_one()
    assert listed == account
    if password is None:
        assert stored is None
    else:
        assert stored.startswith("$argon2id$") and password not in stored


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"role": Role.CLERK}, "ACCOUNT_DEPT_REQUIRED"),
        ({"role": Role.DEPT_SYSTEM, "password": None}, "ACCOUNT_DEPT_REQUIRED"),
        ({"role": Role.CLERK, "dept_uscc": UNKNOWN_DEPT}, "DEPT_UNKNOWN"),
        ({"role": Role.OPERATOR, "dept_uscc": SAMR}, "ACCOUNT_DEPT_NOT_ALLOWED"),
        ({"role": Role.AUDITOR, "dept_uscc": SAMR}, "ACCOUNT_DEPT_NOT_ALLOWED"),
        ({"role": Role.SUBJECT}, "ACCOUNT_SUBJECT_REQUIRED"),
        ({"role": Role.SUBJECT, "subject_id": 999_999}, "SUBJECT_NOT_FOUND"),
        ({"role": Role.OPERATOR, "subject_id": 1}, "ACCOUNT_SUBJECT_NOT_ALLOWED"),
        ({"role": Role.PUBLIC}, "ROLE_UNKNOWN"),  # the anonymous public has no account
        ({"role": "admin"}, "ROLE_UNKNOWN"),
        ({"role": Role.CLERK, "dept_uscc": SAMR, "password": None}, "PASSWORD_REQUIRED"),
        ({"username": "张三"}, "USERNAME_INVALID"),
        ({"username": "ab"}, "USERNAME_INVALID"),
        ({"display_name": "  "}, "ACCOUNT_NAME_REQUIRED"),
    ],
)
def test_create_refuses_wrong_scope(
    engine: Engine, catalog: Catalog, kw: dict[str, Any], code: str
) -> None:
    with engine.begin() as conn:
        error = _refused(code, _create, conn, catalog, **kw)
        assert not error.message.isascii()
        assert service.list_accounts(conn) == []


def test_usernames_are_unique_whatever_their_case(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
        error = _refused("ACCOUNT_EXISTS", _create, conn, catalog, username="ZhangSan")
    assert "zhangsan" in error.message


@pytest.mark.parametrize(
    ("password", "hint"),
    [
        ("Short-1", "至少 10 个字符"),
        ("abcdefghijkl", "两类字符"),
        ("1234567890", "两类字符"),
        ("ZHANGSAN12", "用户名"),
    ],
)
def test_weak_passwords_are_refused(
    engine: Engine, catalog: Catalog, password: str, hint: str
) -> None:
    with engine.begin() as conn:
        error = _refused(
            "PASSWORD_WEAK", _create, conn, catalog, username="zhangsan12", password=password
        )
    assert hint in error.message


def test_a_password_of_ten_chinese_and_latin_characters_is_accepted(
    engine: Engine, catalog: Catalog
) -> None:
    with engine.begin() as conn:
        _create(conn, catalog, password="濮阳信用平台password")
        assert service.authenticate(conn, "zhangsan", "濮阳信用平台password", now=T0)


# -- login -----------------------------------------------------------------------------------


def _login(
    engine: Engine,
    password: str,
    *,
    at: datetime,
    user: str = "zhangsan",
    source: str = "198.51.100.7",
) -> Any:
    """One login attempt in its own transaction, committed even when refused, as the web
    layer must do (the failure counts are part of the refusal)."""
    with engine.begin() as conn:
        try:
            return service.authenticate(conn, user, password, now=at, source=source)
        except service.LoginRefused as exc:
            return exc


def test_authenticate_returns_the_principal(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        account = _create(conn, catalog, role=Role.CLERK, dept_uscc=SAMR)
    principal = _login(engine, PASSWORD, at=T0, user=" ZhangSan ")
    assert principal == Principal(
        role=Role.CLERK,
        name="zhangsan",
        account_id=account.id,
        dept_uscc=SAMR,
        subject_id=None,
        source="198.51.100.7",
    )


def test_wrong_password_and_unknown_user_look_the_same(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    wrong = _login(engine, "Not-the-password-1", at=T0)
    unknown = _login(engine, PASSWORD, at=T0, user="lisi")
    token_only = _login(engine, "", at=T0)
    for refused in (wrong, unknown, token_only):
        assert isinstance(refused, service.LoginRefused)
        assert (refused.code, refused.message) == ("LOGIN_FAILED", "用户名或密码错误")


def _answers(engine: Engine, user: str, source: str, count: int) -> list[tuple[str, str]]:
    return [
        (r.code, r.message)
        for r in (
            _login(
                engine, "wrong-password-1", at=T0 + timedelta(seconds=i), user=user, source=source
            )
            for i in range(count)
        )
    ]


def test_five_failures_from_one_address_back_off_that_address(
    engine: Engine, catalog: Catalog
) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    answers = _answers(engine, "zhangsan", "198.51.100.7", 5)
    assert [code for code, _ in answers] == ["LOGIN_FAILED"] * 4 + ["LOGIN_LOCKED"]
    assert "2024-03-01 09:01:04（北京时间）" in answers[4][1]
    # while the back-off lasts even the right password is refused, and not checked at all
    during = _login(engine, PASSWORD, at=T0 + timedelta(seconds=63))
    assert (during.code, during.message) == answers[4]
    after = _login(engine, PASSWORD, at=T0 + timedelta(seconds=64))
    assert isinstance(after, Principal)


def test_locked_answers_are_the_same_for_an_unknown_username(
    engine: Engine, catalog: Catalog
) -> None:
    """The counters never ask whether the account exists: every answer, lock time included,
    is the same for a stored username and a made-up one."""
    with engine.begin() as conn:
        _create(conn, catalog)
    known = _answers(engine, "zhangsan", "198.51.100.7", 8)
    unknown = _answers(engine, "lisi", "198.51.100.8", 8)
    assert known == unknown
    assert [code for code, _ in known[4:]] == ["LOGIN_LOCKED"] * 4


def test_the_back_off_doubles_and_is_capped(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    at = T0
    waits = []
    for _ in range(12):
        refused = _login(engine, "wrong-password-1", at=at)
        with engine.connect() as conn:
            until = throttle.locked_until(conn, "zhangsan", "198.51.100.7", at)
        if until is not None:
            waits.append(until - at)
            at = until  # the attacker waits exactly as long as told, then guesses again
        assert refused.code in ("LOGIN_FAILED", "LOGIN_LOCKED")
    minute = timedelta(minutes=1)
    assert waits == [minute * 2**i for i in range(6)] + [timedelta(hours=1)] * 2


def test_nobody_can_keep_the_owner_locked_out(engine: Engine, catalog: Catalog) -> None:
    """An attacker failing on the owner's username, from one address or from many, locks out
    those addresses; the owner at an address that has not failed logs in at once."""
    with engine.begin() as conn:
        _create(conn, catalog)
    for i in range(40):
        _login(engine, "wrong-password-1", at=T0 + timedelta(seconds=i), source=f"203.0.113.{i}")
        _login(engine, "wrong-password-1", at=T0 + timedelta(seconds=i), source="203.0.113.250")
    # the account counter is past its threshold: an address that failed on it is held back,
    # even with the right password
    held = _login(engine, PASSWORD, at=T0 + timedelta(minutes=1), source="203.0.113.3")
    assert held.code == "LOGIN_LOCKED"
    assert _login(engine, PASSWORD, at=T0 + timedelta(minutes=1), source="203.0.113.250").code == (
        "LOGIN_LOCKED"
    )
    owner = _login(engine, PASSWORD, at=T0 + timedelta(minutes=1), source="198.51.100.7")
    assert isinstance(owner, Principal)


def test_an_address_spraying_usernames_backs_off(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    codes = [
        _login(engine, "Spring-2024!", at=T0, user=f"user{i:02}", source="203.0.113.9").code
        for i in range(20)
    ]
    assert codes == ["LOGIN_FAILED"] * 19 + ["LOGIN_LOCKED"]
    # a fresh username from that address waits too; the same username elsewhere does not
    assert _login(engine, PASSWORD, at=T0, source="203.0.113.9").code == "LOGIN_LOCKED"
    assert isinstance(_login(engine, PASSWORD, at=T0), Principal)


def test_a_success_resets_the_username_counters(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    for _ in range(4):
        _login(engine, "wrong-password-1", at=T0)
    assert isinstance(_login(engine, PASSWORD, at=T0), Principal)
    for _ in range(4):
        assert _login(engine, "wrong-password-1", at=T0).code == "LOGIN_FAILED"


def test_a_new_password_clears_the_username_counters(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    for _ in range(5):
        _login(engine, "wrong-password-1", at=T0)
    assert _login(engine, PASSWORD, at=T0 + timedelta(seconds=30)).code == "LOGIN_LOCKED"
    with engine.begin() as conn:
        service.set_password(conn, "zhangsan", "Puyang-credit-2025", by=CLI)
        kinds = conn.execute(select(login_throttle.c.kind)).scalars().all()
    assert kinds == ["address"]  # an address's own counter is not the account's to clear
    assert isinstance(
        _login(engine, "Puyang-credit-2025", at=T0 + timedelta(seconds=30)), Principal
    )


def test_counters_lapse_after_a_day_and_are_pruned(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
    for _ in range(5):
        _login(engine, "wrong-password-1", at=T0, source="203.0.113.1")
    day = T0 + throttle.WINDOW
    assert _login(engine, "wrong-password-1", at=day, source="203.0.113.1").code == "LOGIN_FAILED"
    _login(engine, "wrong-password-1", at=day + timedelta(days=2), user="lisi")
    with engine.connect() as conn:
        stamps = conn.execute(select(login_throttle.c.last_failure_at)).scalars().all()
    assert len(stamps) == 3  # lisi's pair, account and address rows; the older ones pruned


def test_disabled_accounts_are_refused(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        _create(conn, catalog)
        disabled = service.disable_account(conn, "zhangsan", by=CLI, now=T0)
        again = service.disable_account(conn, "ZHANGSAN", by=CLI, now=T0 + timedelta(days=1))
    assert disabled.disabled_at == again.disabled_at == T0
    assert _login(engine, PASSWORD, at=T0).code == "ACCOUNT_DISABLED"
    # without the password nobody learns that the account exists
    assert _login(engine, "wrong-password-1", at=T0).code == "LOGIN_FAILED"
    with engine.begin() as conn:
        _refused("ACCOUNT_NOT_FOUND", service.disable_account, conn, "lisi", by=CLI)


def test_an_outdated_hash_is_upgraded_at_login(engine: Engine, catalog: Catalog) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with engine.begin() as conn:
        _create(conn, catalog)
        conn.execute(accounts.update().values(password_hash=weak.hash(PASSWORD)))
    assert isinstance(_login(engine, PASSWORD, at=T0), Principal)
    with engine.connect() as conn:
        upgraded = conn.execute(select(accounts.c.password_hash)).scalar_one()
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert isinstance(_login(engine, PASSWORD, at=T0), Principal)


# -- tokens ----------------------------------------------------------------------------------


def _dept_system(conn: Connection, catalog: Catalog) -> service.Account:
    return _create(
        conn, catalog, username="samr-system", role=Role.DEPT_SYSTEM, dept_uscc=SAMR, password=None
    )


def _every_stored_value(conn: Connection) -> str:
    return "\n".join(
        repr(tuple(row)) for table in metadata.sorted_tables for row in conn.execute(table.select())
    )


def test_a_token_works_and_only_its_hash_is_stored(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        account = _dept_system(conn, catalog)
        secret = tokens.issue_token(conn, account.id, label="市场监管局报送接口", by=CLI, now=T0)
    assert secret.startswith("xy_") and len(secret) > 40
    at = T0 + timedelta(hours=1)
    with engine.begin() as conn:
        principal = tokens.principal_for_token(conn, secret, now=at, source="10.0.0.5")
    assert principal == Principal(
        role=Role.DEPT_SYSTEM,
        name="samr-system",
        account_id=account.id,
        dept_uscc=SAMR,
        subject_id=None,
        source="10.0.0.5",
    )
    with engine.connect() as conn:
        everything = _every_stored_value(conn)
        stored = conn.execute(select(api_tokens)).one()
        (info,) = tokens.list_tokens(conn, username="SAMR-SYSTEM")
    assert secret not in everything
    assert secret.removeprefix("xy_") not in everything
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (info.label, info.created_at, info.last_used_at) == ("市场监管局报送接口", T0, at)
    assert "token_hash" not in info.as_dict()


def test_revoked_expired_and_unknown_tokens_are_invalid(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        account = _dept_system(conn, catalog)
        revoked = tokens.issue_token(conn, account.id, label="old", by=CLI, now=T0)
        expiring = tokens.issue_token(
            conn, account.id, label="short", by=CLI, expires_at=T0 + timedelta(days=1), now=T0
        )
        first = tokens.revoke_token(conn, tokens.find_token(conn, revoked).id, by=CLI, now=T0)
        second = tokens.revoke_token(conn, first.id, by=CLI, now=T0 + timedelta(hours=1))
    assert first.revoked_at == second.revoked_at == T0
    with engine.begin() as conn:
        assert tokens.principal_for_token(conn, expiring, now=T0 + timedelta(hours=23))
        messages = {
            _refused("TOKEN_INVALID", tokens.principal_for_token, conn, secret, now=at).message
            for secret, at in [
                (revoked, T0),
                (expiring, T0 + timedelta(days=1)),
                ("xy_" + "A" * 43, T0),
                ("not-a-token", T0),
                ("", T0),
            ]
        }
    assert len(messages) == 1  # nothing tells which secrets once existed


def test_tokens_of_a_disabled_account_stop_working(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        account = _dept_system(conn, catalog)
        secret = tokens.issue_token(conn, account.id, label="x", by=CLI, now=T0)
        service.disable_account(conn, account.username, by=CLI, now=T0)
        _refused("TOKEN_INVALID", tokens.principal_for_token, conn, secret, now=T0)
        _refused(
            "ACCOUNT_DISABLED", tokens.issue_token, conn, account.id, label="y", by=CLI, now=T0
        )


def test_token_rules(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        subject = _create(conn, catalog, role=Role.SUBJECT, subject_id=_subject(conn))
        _refused("TOKEN_NOT_ALLOWED", tokens.issue_token, conn, subject.id, label="x", by=CLI)
        system = _dept_system(conn, catalog)
        _refused(
            "TOKEN_EXPIRY_INVALID",
            tokens.issue_token,
            conn,
            system.id,
            label="x",
            by=CLI,
            expires_at=T0,
            now=T0,
        )
        _refused("ACCOUNT_NOT_FOUND", tokens.issue_token, conn, 999_999, label="x", by=CLI)
        _refused("TOKEN_NOT_FOUND", tokens.revoke_token, conn, 999_999, by=CLI)


def test_last_used_is_written_at_most_once_a_minute(engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        secret = tokens.issue_token(conn, _dept_system(conn, catalog).id, label="x", by=CLI, now=T0)
        for seconds in (0, 30, 59, 60, 61):
            tokens.principal_for_token(conn, secret, now=T0 + timedelta(seconds=seconds))
        assert tokens.find_token(conn, secret).last_used_at == T0 + timedelta(seconds=60)


def test_times_given_in_beijing_time_are_stored_as_the_same_instant(
    engine: Engine, catalog: Catalog
) -> None:
    from zoneinfo import ZoneInfo

    beijing = T0.astimezone(ZoneInfo("Asia/Shanghai"))
    with engine.begin() as conn:
        account = _create(conn, catalog, now=beijing)
    assert account.created_at == T0
