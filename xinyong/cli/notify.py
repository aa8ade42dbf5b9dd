"""`xinyong notify …`: the webhook delivery worker, departments' webhooks and subscriptions."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.accounts.roles import Principal
from xinyong.cli.context import (
    actor,
    engine,
    err,
    fail,
    local_time,
    out,
    settings,
    transaction,
)
from xinyong.departments import service as departments
from xinyong.errors import NotFound, XinyongError
from xinyong.notifications import subscriptions as subs
from xinyong.notifications import webhooks
from xinyong.subjects.service import find_subject

app = typer.Typer(help="通知：推送地址、订阅与推送进程", no_args_is_help=True)
webhook_app = typer.Typer(help="部门的推送地址（Webhook）", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")

_DEPT = typer.Option("--dept", help="部门统一社会信用代码")


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def _department(uscc: str, as_json: bool) -> str:
    with transaction(as_json=as_json, rollback=True) as conn:
        return departments.get(conn, uscc).uscc


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="推送完当前到期的通知后退出")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, help="空闲时的轮询间隔（秒）")
    ] = 5.0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="每次领取的推送条数")] = 10,
    lease: Annotated[
        float,
        typer.Option(
            "--lease-seconds",
            min=1.0,
            help="领取后的租期（秒）：进程中断时，租期过后未确认的推送会被重新发送",
        ),
    ] = 300.0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="每次推送的超时（秒）")
    ] = 10.0,
) -> None:
    """运行推送进程：把到期的通知签名后推送到各部门的推送地址，失败按指数退避重试。"""
    policy = webhooks.RetryPolicy(batch=batch, lease_seconds=lease, timeout_seconds=timeout)
    try:
        eng = engine()
        err.print("推送进程已启动。", highlight=False)
        total = webhooks.run_worker(
            eng, settings(), once=once, interval_seconds=interval, policy=policy
        )
    except XinyongError as exc:
        fail(exc)
    except KeyboardInterrupt:
        err.print("推送进程已停止。", highlight=False)
        return
    out.print(
        f"推送完成：送达 {total.delivered} 条，待重试 {total.retried} 条，放弃 {total.dead} 条",
        highlight=False,
    )


@webhook_app.command("add")
def webhook_add(
    dept: Annotated[str, typer.Argument(help="部门统一社会信用代码")],
    url: Annotated[str, typer.Argument(help="推送地址（http:// 或 https://）")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """登记部门的推送地址。签名密钥只显示这一次（写到标准输出）。"""
    uscc = _department(dept, as_json)
    with transaction(as_json=as_json) as conn:
        endpoint, secret = webhooks.register_webhook(
            conn, Principal.cli(actor()), dept_uscc=uscc, url=url
        )
    if as_json:
        _dump({**endpoint.as_dict(), "secret": secret})
        return
    err.print(
        f"已为部门 {uscc} 登记推送地址 {escape(endpoint.url)}（编号 {endpoint.id}）。\n"
        "[bold yellow]注意：签名密钥只显示这一次，请立即交给该部门妥善保存；"
        "部门用它校验 X-Xinyong-Signature。[/bold yellow]",
        highlight=False,
    )
    sys.stdout.write(secret + "\n")


@webhook_app.command("remove")
def webhook_remove(
    dept: Annotated[str, typer.Argument(help="部门统一社会信用代码")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """删除部门的推送地址；尚未送达的推送随之取消（通知仍可拉取）。"""
    missing: NotFound | None = None
    with transaction(as_json=as_json) as conn:
        try:
            endpoint = webhooks.unregister_webhook(
                conn, Principal.cli(actor()), dept_uscc=dept.strip().upper()
            )
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if as_json:
        _dump(endpoint.as_dict())
        return
    out.print(f"已删除部门 {endpoint.dept_uscc} 的推送地址 {escape(endpoint.url)}", highlight=False)


@webhook_app.command("list")
def webhook_list(
    include_removed: Annotated[bool, typer.Option("--all", help="包括已删除的地址")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出推送地址（不含密钥）及其待送、已送达、已放弃的推送数。"""
    with transaction(as_json=as_json, rollback=True) as conn:
        found = webhooks.list_webhooks(conn, include_removed=include_removed)
    if as_json:
        _dump([e.as_dict() for e in found])
        return
    table = Table(title=f"推送地址（{len(found)} 个）")
    for col in ("编号", "部门", "地址", "状态", "待送", "已送达", "已放弃", "登记"):
        table.add_column(col)
    for e in found:
        state = "有效" if e.active else f"已删除（{local_time(e.removed_at)}）"
        table.add_row(
            str(e.id),
            e.dept_uscc,
            escape(e.url),
            state,
            str(e.pending),
            str(e.delivered),
            str(e.dead),
            f"{local_time(e.created_at)} {escape(e.created_by)}",
        )
    out.print(table)


@app.command("dead")
def dead(
    dept: Annotated[str | None, typer.Option("--dept", help="只看这个部门")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出重试用尽、已放弃的推送（通知仍在部门的拉取通道中）。"""
    with transaction(as_json=as_json, rollback=True) as conn:
        found = webhooks.dead_pushes(conn, dept_uscc=dept)
    if as_json:
        _dump(found)
        return
    table = Table(title=f"已放弃的推送（{len(found)} 条）")
    for col in ("编号", "事件", "类型", "部门", "地址", "次数", "最后错误"):
        table.add_column(col)
    for p in found:
        table.add_row(
            str(p["id"]),
            p["event_id"],
            p["kind"],
            p["dept_uscc"],
            escape(p["url"]),
            str(p["attempts"]),
            escape(p["last_error"] or ""),
        )
    out.print(table)


@app.command("retry")
def retry(
    push_id: Annotated[int, typer.Argument(help="已放弃推送的编号（见 notify dead）")],
) -> None:
    """让一条已放弃的推送重新开始重试（部门修好接收地址之后）。"""
    missing: NotFound | None = None
    with transaction() as conn:
        try:
            webhooks.retry_dead(conn, push_id)
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, status=1)
    out.print(f"推送 {push_id} 已重新排队", highlight=False)


def _subject_id(conn: Any, code: str) -> tuple[int, str]:
    subject = find_subject(conn, code)
    return int(subject["id"]), str(subject["name"])


@app.command("subscribe")
def subscribe(
    subject_code: Annotated[
        str, typer.Argument(help="信用主体的统一社会信用代码、组织机构代码、注册号或身份证号")
    ],
    dept: Annotated[str, _DEPT],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """部门订阅其监管的信用主体：此后该主体的每条新记录都会通知该部门。"""
    uscc = _department(dept, as_json)
    missing: NotFound | None = None
    with transaction(as_json=as_json) as conn:
        try:
            subject_id, _ = _subject_id(conn, subject_code)
            sub = subs.subscribe(
                conn, Principal.cli(actor()), dept_uscc=uscc, subject_id=subject_id
            )
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if as_json:
        _dump(sub.as_dict())
        return
    out.print(f"部门 {uscc} 已订阅信用主体“{escape(sub.subject_name)}”", highlight=False)


@app.command("unsubscribe")
def unsubscribe(
    subject_code: Annotated[str, typer.Argument(help="信用主体的代码")],
    dept: Annotated[str, _DEPT],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """取消部门对信用主体的订阅。"""
    uscc = _department(dept, as_json)
    missing: NotFound | None = None
    with transaction(as_json=as_json) as conn:
        try:
            subject_id, name = _subject_id(conn, subject_code)
            subs.unsubscribe(conn, Principal.cli(actor()), dept_uscc=uscc, subject_id=subject_id)
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if as_json:
        _dump({"dept_uscc": uscc, "subject_id": subject_id, "unsubscribed": True})
        return
    out.print(f"部门 {uscc} 已取消订阅信用主体“{escape(name)}”", highlight=False)


@app.command("subscriptions")
def subscriptions(
    dept: Annotated[str | None, typer.Option("--dept", help="只看这个部门")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出部门对信用主体的订阅。"""
    with transaction(as_json=as_json, rollback=True) as conn:
        found = subs.list_subscriptions(conn, dept_uscc=dept)
    if as_json:
        _dump([s.as_dict() for s in found])
        return
    table = Table(title=f"订阅（{len(found)} 条）")
    for col in ("编号", "部门", "主体编号", "主体名称", "订阅时间"):
        table.add_column(col)
    for s in found:
        table.add_row(
            str(s.id),
            s.dept_uscc,
            str(s.subject_id),
            escape(s.subject_name),
            f"{local_time(s.created_at)} {escape(s.created_by)}",
        )
    out.print(table)
