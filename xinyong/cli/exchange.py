"""`xinyong exchange export|ack|receive|verify|packages|rejects`: exchange with the province and
the nation (GB/T 39443 file interface) from the command line, acting as the platform's operator
(``--dept`` on ``rejects`` reads as that department's clerk)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.cli.cases import DeptOpt, JsonOpt, _principal
from xinyong.cli.context import catalog, out, transaction
from xinyong.exchange import ack as acks
from xinyong.exchange import outbound, verify
from xinyong.ingest.exchange import receive

app = typer.Typer(
    help="数据交换：向省平台推送数据包、读取回执、接收下发数据包并核实", no_args_is_help=True
)


def _json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


@app.command("export")
def export_command(
    since: Annotated[
        str | None,
        typer.Option("--since", help="从该游标（或变更序号）之后导出；缺省接着上次导出"),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", help="数据包输出目录（缺省当前目录）")
    ] = Path(),
    target: Annotated[str | None, typer.Option("--target", help="目标交换结点编号")] = None,
    as_json: JsonOpt = False,
) -> None:
    """把游标之后可共享的变更写成数据包（包头 + 包体，UTF-8，按大小分包）。"""
    principal = _principal(None, as_json)
    with transaction(
        as_json=as_json, audit_as="exchange.refused", audit_detail={"command": "exchange export"}
    ) as conn:
        result = outbound.export(
            conn, catalog(), principal, since=since, output=output, target=target
        )
    if as_json:
        _json(result.as_dict())
        return
    table = Table("数据包", "数据集", "记录数", "新增", "更正", "删除", "变更序号")
    for p in result.packages:
        table.add_row(
            escape(p["file"]),
            p["dataset"],
            str(p["record_count"]),
            str(p["counts"]["ADD"]),
            str(p["counts"]["MOD"]),
            str(p["counts"]["DEL"]),
            f"{p['first_seq']}–{p['last_seq']}",
        )
    out.print(table)
    out.print(
        f"共 {result.records} 条变更，{len(result.packages)} 个数据包。"
        f"下次导出游标：{result.next_cursor}"
    )


@app.command("ack")
def ack_command(
    file: Annotated[Path, typer.Argument(help="省平台返回的回执文件（JSON）")],
    as_json: JsonOpt = False,
) -> None:
    """读取回执，逐条核对已接收与被退回的记录，并把退回原因发给报送部门。"""
    principal = _principal(None, as_json)
    with transaction(
        as_json=as_json, audit_as="exchange.refused", audit_detail={"command": "exchange ack"}
    ) as conn:
        result = acks.reconcile(conn, principal, file)
    if as_json:
        _json(result.as_dict())
        return
    out.print(
        f"数据包 {result.package_id}（{result.dataset}）：{result.records} 条，"
        f"已接收 {result.accepted} 条，被退回 {result.rejected} 条。"
    )
    for dept, n in sorted(result.departments.items()):
        out.print(f"  退回 {n} 条已通知报送部门 {dept}")
    if result.unknown:
        out.print(f"[yellow]回执中 {len(result.unknown)} 条序号不属于该数据包，已忽略[/yellow]")


@app.command("receive")
def receive_command(
    header: Annotated[Path, typer.Argument(help="下发数据包的包头文件（*.head.json）")],
    as_json: JsonOpt = False,
) -> None:
    """接收省级或国家平台下发的数据包：与部门报送同样校验、关联主体并出具回执。"""
    principal = _principal(None, as_json)
    with transaction(
        as_json=as_json, audit_as="exchange.refused", audit_detail={"command": "exchange receive"}
    ) as conn:
        result = receive(conn, catalog(), principal, header)
    if as_json:
        _json(result.as_dict())
        return
    r, p = result.receipt, result.package
    out.print(
        f"数据包 {p.guid}（{p.dataset}，来自结点 {p.node}）：批次 {r.batch_id}，"
        f"收到 {r.received} 条，新增 {r.new}，更新 {r.updated}，未变 {r.unchanged}，"
        f"退回 {r.rejected}，删除 {result.withdrawn}。核实期限：{p.due_on}"
        + ("（暂定）" if p.due_provisional else "")
    )


@app.command("verify")
def verify_command(
    package_id: Annotated[str, typer.Argument(help="接收数据包的编号（GUID）")],
    returned: Annotated[bool, typer.Option("--return", help="退回重报（须说明理由）")] = False,
    note: Annotated[str, typer.Option("--note", help="核实说明或退回理由")] = "",
    as_json: JsonOpt = False,
) -> None:
    """登记对接收数据包的核实结论（河南省社会信用条例第十七条：五个工作日内）。"""
    principal = _principal(None, as_json)
    with transaction(
        as_json=as_json, audit_as="exchange.refused", audit_detail={"command": "exchange verify"}
    ) as conn:
        found = verify.verify(
            conn, principal, package_id, verdict="returned" if returned else "verified", note=note
        )
    if as_json:
        _json(found.as_dict())
        return
    out.print(f"数据包 {found.guid}：{found.as_dict()['status_label']}")


@app.command("packages")
def packages_command(as_json: JsonOpt = False) -> None:
    """列出接收的数据包及其核实期限。"""
    principal = _principal(None, as_json)
    with transaction(as_json=as_json, rollback=True) as conn:
        found = verify.received_packages(conn, principal)
    if as_json:
        _json([p.as_dict() for p in found])
        return
    table = Table("编号", "结点", "数据集", "记录数", "批次", "状态", "核实期限")
    for p in found:
        d = p.as_dict()
        table.add_row(
            p.guid,
            p.node,
            p.dataset,
            str(p.records),
            str(p.batch_id or ""),
            d["status_label"],
            f"{d['due_on']}{'（暂定）' if p.due_provisional else ''}",
        )
    out.print(table)


@app.command("rejects")
def rejects_command(dept: DeptOpt = None, as_json: JsonOpt = False) -> None:
    """被省平台退回的记录及原因（--dept：该部门的）。"""
    principal = _principal(dept, as_json)
    with transaction(as_json=as_json, rollback=True) as conn:
        found = acks.rejections(conn, principal)
        counts = acks.summary(conn, principal)
    if as_json:
        _json({"summary": counts, "rejected": [r.as_dict() for r in found]})
        return
    out.print(
        f"待推送 {counts['pending']}，已推送待回执 {counts['sent']}，"
        f"已接收 {counts['accepted']}，被退回 {counts['rejected']}"
    )
    table = Table("数据集", "记录", "退回原因", "数据包")
    for r in found:
        table.add_row(r.dataset, escape(r.key), escape(r.reason), r.package_id)
    out.print(table)
