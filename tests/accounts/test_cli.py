"""`xinyong accounts …` through the root command line, against the test databases."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fixtures.cli import point_at, reset_cli
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from xinyong.accounts import service, tokens
from xinyong.accounts.models import accounts
from xinyong.accounts.roles import Role
from xinyong.cli import app
from xinyong.errors import XinyongError
from xinyong.settings import Settings

SAMR = "11410900PY0000022L"
PASSWORD = "Puyang-credit-2024"


@pytest.fixture
def cli(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    point_at(settings, monkeypatch)
    reset_cli()
    yield
    reset_cli()


def xinyong(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, ["accounts", *args], input=input)


def test_create_with_password_from_stdin_then_log_in(cli: None, engine: Engine) -> None:
    result = xinyong(
        "create",
        "Wang.Clerk",
        "--role",
        "clerk",
        "--dept",
        SAMR,
        "--name",
        "王经办",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "wang.clerk" in result.stdout and "部门经办人" in result.stdout
    assert PASSWORD not in result.output
    with engine.begin() as conn:
        principal = service.authenticate(conn, "wang.clerk", PASSWORD)
        created_by = conn.execute(select(accounts.c.created_by)).scalar_one()
    assert (principal.role, principal.dept_uscc) == (Role.CLERK, SAMR)
    assert created_by.startswith("cli:") and "@" in created_by


def test_the_password_is_never_an_argument(cli: None) -> None:
    result = xinyong("create", "admin1", "--role", "operator", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (("--role", "clerk"), PASSWORD, "ACCOUNT_DEPT_REQUIRED"),
        (("--role", "clerk", "--dept", "91410902MA0000000X"), PASSWORD, "DEPT_UNKNOWN"),
        (("--role", "operator", "--dept", SAMR), PASSWORD, "ACCOUNT_DEPT_NOT_ALLOWED"),
        (("--role", "operator"), "short", "PASSWORD_WEAK"),
        (("--role", "operator"), None, "PASSWORD_REQUIRED"),
        (("--role", "public"), PASSWORD, "ROLE_UNKNOWN"),
    ],
)
def test_refused_creation_exits_2_with_a_chinese_message(
    cli: None, engine: Engine, args: tuple[str, ...], stdin: str | None, code: str
) -> None:
    extra = ("--password-stdin",) if stdin is not None else ()
    result = xinyong("create", "someone", *args, *extra, input=stdin)
    assert result.exit_code == 2, result.output
    assert code in result.stderr and "错误" in result.stderr
    assert "Traceback" not in result.output
    with engine.connect() as conn:
        assert service.list_accounts(conn) == []


def test_duplicate_username_exits_2(cli: None) -> None:
    args = ("create", "auditor1", "--role", "auditor", "--password-stdin")
    assert xinyong(*args, input=PASSWORD).exit_code == 0
    again = xinyong(*args, input=PASSWORD)
    assert again.exit_code == 2 and "ACCOUNT_EXISTS" in again.stderr


def test_token_is_printed_once_and_works(cli: None, engine: Engine) -> None:
    created = xinyong("create", "samr-system", "--role", "dept_system", "--dept", SAMR)
    assert created.exit_code == 0, created.output
    result = xinyong("token", "samr-system", "--label", "市场监管局报送接口", "--days", "30")
    assert result.exit_code == 0, result.output
    (secret,) = result.stdout.splitlines()  # the secret alone on standard output
    assert secret.startswith("xy_")
    assert "只显示这一次" in result.stderr and secret not in result.stderr
    with engine.begin() as conn:
        principal = tokens.principal_for_token(conn, secret)
    assert (principal.name, principal.dept_uscc) == ("samr-system", SAMR)

    listed = xinyong("tokens", "samr-system", "--json")
    assert listed.exit_code == 0, listed.output
    (token,) = json.loads(listed.stdout)
    assert token["label"] == "市场监管局报送接口" and token["expires_at"]
    assert secret not in listed.stdout

    revoked = xinyong("revoke-token", str(token["id"]))
    assert revoked.exit_code == 0, revoked.output
    assert "已" in revoked.stdout and "吊销" in revoked.stdout
    with engine.begin() as conn, pytest.raises(XinyongError) as caught:
        tokens.principal_for_token(conn, secret)
    assert caught.value.code == "TOKEN_INVALID"


def test_token_errors_exit_2(cli: None) -> None:
    assert xinyong("create", "subj", "--role", "subject", "--subject", "42").exit_code == 2
    missing = xinyong("token", "nobody")
    assert missing.exit_code == 2 and "ACCOUNT_NOT_FOUND" in missing.stderr
    assert missing.stdout == ""
    unknown = xinyong("revoke-token", "999")
    assert unknown.exit_code == 2 and "TOKEN_NOT_FOUND" in unknown.stderr
    zero_days = xinyong("token", "nobody", "--days", "0")
    assert zero_days.exit_code == 2


def test_list_json_and_disable(cli: None) -> None:
    assert (
        xinyong("create", "op1", "--role", "operator", "--password-stdin", input=PASSWORD).exit_code
        == 0
    )
    assert (
        xinyong(
            "create", "sys1", "--role", "dept_system", "--dept", SAMR, "--name", "税务系统"
        ).exit_code
        == 0
    )
    disabled = xinyong("disable", "OP1")
    assert disabled.exit_code == 0 and "已停用" in disabled.stdout
    listed = xinyong("list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["role"], r["dept_uscc"]) for r in rows] == [
        ("op1", "operator", None),
        ("sys1", "dept_system", SAMR),
    ]
    assert rows[0]["disabled_at"] and rows[1]["disabled_at"] is None
    assert rows[1]["display_name"] == "税务系统" and rows[1]["has_password"] is False
    assert not any("hash" in key for row in rows for key in row)
    table = xinyong("list")
    assert table.exit_code == 0 and "已停用" in table.stdout and "部门系统" in table.stdout
    missing = xinyong("disable", "nobody")
    assert missing.exit_code == 2 and "ACCOUNT_NOT_FOUND" in missing.stderr


def test_list_filtered_disable_and_enable(cli: None, engine: Engine) -> None:
    """The filters the operators' page has, on the command line; disable, then enable again."""
    for name, role, dept in (("samr.clerk", "clerk", SAMR), ("aud.one", "auditor", None)):
        args = ["create", name, "--role", role, "--password-stdin"]
        assert (
            xinyong(*args, *(["--dept", dept] if dept else []), input=PASSWORD + "\n").exit_code
            == 0
        )
    assert xinyong("disable", "aud.one").exit_code == 0

    def names(*args: str) -> list[str]:
        result = xinyong("list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [a["username"] for a in json.loads(result.stdout)]

    assert names() == ["aud.one", "samr.clerk"]
    assert names("--role", "clerk") == ["samr.clerk"]
    assert names("--dept", SAMR.lower()) == ["samr.clerk"]
    assert names("--state", "disabled") == ["aud.one"]
    assert names("--state", "active") == ["samr.clerk"]
    assert xinyong("list", "--state", "gone").exit_code == 2
    enabled = xinyong("enable", "aud.one")
    assert enabled.exit_code == 0 and "已启用" in enabled.stdout
    assert names("--state", "disabled") == []
    with engine.begin() as conn:
        service.authenticate(conn, "aud.one", PASSWORD)


def test_a_password_set_for_someone_else_is_changed_at_their_login(
    cli: None, engine: Engine
) -> None:
    made = ["create", "li.audit", "--role", "auditor", "--password-stdin"]
    assert xinyong(*made, input=PASSWORD + "\n").exit_code == 0
    assert xinyong("password", "li.audit", input=PASSWORD + "-2\n").exit_code == 0
    with engine.connect() as conn:
        chosen = service.get_account(conn, "li.audit").must_change_password
    handed = xinyong("password", "li.audit", "--change-at-login", input=PASSWORD + "-3\n")
    assert handed.exit_code == 0, handed.output
    other = ["create", "zhao.op", "--role", "operator", "--password-stdin", "--change-at-login"]
    assert xinyong(*other, input=PASSWORD + "\n").exit_code == 0
    with engine.connect() as conn:
        after_reset = service.get_account(conn, "li.audit").must_change_password
        new_one = service.get_account(conn, "zhao.op").must_change_password
    assert (chosen, after_reset, new_one) == (False, True, True)
