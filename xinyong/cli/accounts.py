"""`xinyong accounts …`: accounts (账号) and the API tokens (接口令牌) of department systems.

Passwords never come from an argument: arguments end up in shell history and process lists.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.accounts import service
from xinyong.accounts import tokens as token_service
from xinyong.accounts.roles import ACCOUNT_ROLES, Principal
from xinyong.cli.context import actor, catalog, err, local_time, out, settings, transaction

app = typer.Typer(help="账号与令牌", no_args_is_help=True)

_ROLES = "、".join(f"{r.value}（{r.label}）" for r in ACCOUNT_ROLES)


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码：")
        if getpass.getpass("再次输入密码：") != first:
            err.print("[red]错误[/red]：两次输入的密码不一致", highlight=False)
            raise typer.Exit(2)
        return first
    # One line, so that `printf '%s\n' "$PW" | xinyong accounts create …` works; only the
    # line ending is removed, spaces inside or around the password are part of it.
    return sys.stdin.readline().rstrip("\r\n")


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="登录用户名（字母、数字或 . _ @ -）")],
    role: Annotated[str, typer.Option("--role", help=f"角色：{_ROLES}")],
    dept: Annotated[
        str | None,
        typer.Option("--dept", help="所属部门的统一社会信用代码（部门经办人、部门系统必填）"),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="显示名称（默认同用户名）", show_default=False)
    ] = None,
    subject: Annotated[
        int | None, typer.Option("--subject", help="对应的信用主体编号（信用主体账号必填）")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="从标准输入读取密码（不接受命令行参数中的密码）"),
    ] = False,
    change_at_login: Annotated[
        bool,
        typer.Option("--change-at-login", help="密码由他人设置：账号使用人首次登录时须先修改密码"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """创建账号。部门系统账号可不设密码，只凭接口令牌访问。"""
    password = _read_password() if password_stdin else None
    with transaction(as_json=as_json) as conn:
        account = service.create_account(
            conn,
            catalog(),
            username=username,
            role=role,
            display_name=name or username,
            password=password,
            dept_uscc=dept,
            subject_id=subject,
            created_by=Principal.cli(actor()).name,
            by=Principal.cli(actor()),
            change_at_login=change_at_login,
        )
    if as_json:
        _dump(account.as_dict())
        return
    where = f"，部门 {account.dept_uscc}" if account.dept_uscc else ""
    out.print(
        f"已创建账号 {escape(account.username)}（{account.role.label}{where}，编号 {account.id}）",
        highlight=False,
    )


@app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """停用账号：不能再登录，其接口令牌一并失效。账号不删除，审计日志中的操作人仍可追溯。"""
    with transaction() as conn:
        account = service.disable_account(conn, username, by=Principal.cli(actor()))
    out.print(
        f"账号 {escape(account.username)} 已停用（{local_time(account.disabled_at)}）",
        highlight=False,
    )


@app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """启用已停用的账号：可再次登录，未吊销、未过期的接口令牌恢复有效。"""
    with transaction() as conn:
        account = service.enable_account(conn, username, by=Principal.cli(actor()))
    out.print(f"账号 {escape(account.username)} 已启用", highlight=False)


@app.command("password")
def password(
    username: Annotated[str, typer.Argument(help="用户名")],
    change_at_login: Annotated[
        bool,
        typer.Option("--change-at-login", help="密码由他人设置：账号使用人下次登录时须先修改密码"),
    ] = False,
) -> None:
    """重设账号的登录密码（从标准输入读取）；同时解除该用户名的登录限制（各地址的失败计数）。"""
    new = _read_password()
    with transaction() as conn:
        account = service.set_password(
            conn, username, new, by=Principal.cli(actor()), change_at_login=change_at_login
        )
    out.print(f"账号 {escape(account.username)} 的密码已重设，登录限制已解除", highlight=False)


@app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="用户名")],
    label: Annotated[str, typer.Option("--label", help="用途说明，如 “税务局报送接口”")] = "",
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, help="有效天数（默认长期有效，直到吊销）", show_default=False
        ),
    ] = None,
) -> None:
    """为账号签发接口令牌。密钥只显示这一次（写到标准输出，便于直接保存）。"""
    now = settings().clock.now()
    expires = now + timedelta(days=days) if days is not None else None
    with transaction() as conn:
        account = service.get_account(conn, username)
        secret = token_service.issue_token(
            conn,
            account.id,
            label=label or f"{account.username} 的令牌",
            by=Principal.cli(actor()),
            expires_at=expires,
        )
        info = token_service.find_token(conn, secret)
    until = f"有效期至 {local_time(info.expires_at)}" if info.expires_at else "长期有效，直到吊销"
    # The secret alone on standard output, the explanation on standard error: a script can
    # capture the one without the other.
    err.print(
        f"已为 {escape(account.username)} 签发令牌 {info.id}（{escape(info.label)}，{until}）。\n"
        "[bold yellow]注意：令牌密钥只显示这一次，平台不保存密钥本身，之后无法再次查看；"
        "请立即妥善保存，遗失只能吊销后重新签发。[/bold yellow]",
        highlight=False,
    )
    sys.stdout.write(secret + "\n")


@app.command("revoke-token")
def revoke_token(token_id: Annotated[int, typer.Argument(help="令牌编号")]) -> None:
    """吊销一个接口令牌，立即生效。"""
    with transaction() as conn:
        info = token_service.revoke_token(conn, token_id, by=Principal.cli(actor()))
    out.print(
        f"令牌 {info.id}（{escape(info.username)}，{escape(info.label)}）"
        f"已于 {local_time(info.revoked_at)} 吊销",
        highlight=False,
    )


@app.command("tokens")
def tokens_command(
    username: Annotated[str, typer.Argument(help="用户名")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出账号的接口令牌（不含密钥）。"""
    with transaction(as_json=as_json, rollback=True) as conn:
        service.get_account(conn, username)
        found = token_service.list_tokens(conn, username=username)
    if as_json:
        _dump([t.as_dict() for t in found])
        return
    table = Table(title=f"{escape(username)} 的接口令牌（{len(found)} 个）")
    for col in ("编号", "用途", "签发时间", "有效期至", "最近使用", "状态"):
        table.add_column(col)
    for t in found:
        state = f"已吊销（{local_time(t.revoked_at)}）" if t.revoked_at else "有效"
        table.add_row(
            str(t.id),
            escape(t.label),
            local_time(t.created_at),
            local_time(t.expires_at) or "长期",
            local_time(t.last_used_at) or "从未",
            state,
        )
    out.print(table)


@app.command("list")
def list_accounts(
    role: Annotated[
        str | None, typer.Option("--role", help=f"只列出该角色：{_ROLES}", show_default=False)
    ] = None,
    dept: Annotated[
        str | None,
        typer.Option("--dept", help="只列出该部门（统一社会信用代码）的账号", show_default=False),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help="active（正常）或 disabled（已停用）", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出所有账号（含已停用的）。"""
    if state not in (None, "active", "disabled"):
        err.print("[red]错误[/red]：--state 应为 active 或 disabled", highlight=False)
        raise typer.Exit(2)
    with transaction(as_json=as_json, rollback=True) as conn:
        found = service.list_accounts(
            conn,
            role=role,
            dept_uscc=dept,
            disabled=None if state is None else state == "disabled",
        )
    if as_json:
        _dump([a.as_dict() for a in found])
        return
    table = Table(title=f"账号（{len(found)} 个）")
    for col in ("编号", "用户名", "名称", "角色", "部门", "主体", "状态", "创建"):
        table.add_column(col)
    for a in found:
        state = "正常" if a.disabled_at is None else f"已停用（{local_time(a.disabled_at)}）"
        table.add_row(
            str(a.id),
            escape(a.username),
            escape(a.display_name),
            a.role.label,
            a.dept_uscc or "",
            str(a.subject_id or ""),
            state,
            f"{local_time(a.created_at)} {escape(a.created_by)}",
        )
    out.print(table)
