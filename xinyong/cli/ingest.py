"""`xinyong ingest`, `xinyong batches`, `xinyong batch show`: deliveries from the command line."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong.accounts.roles import Principal
from xinyong.batches.service import batch_for, batch_owned, export_rejects, list_batches
from xinyong.cli.context import actor as current_actor
from xinyong.cli.context import catalog, err, local_time, out, settings, transaction
from xinyong.ingest.receipt import Receipt
from xinyong.ingest.service import IngestRequest, ingest

batch_app = typer.Typer(help="归集批次", no_args_is_help=True)


def ingest_command(
    file: Annotated[Path, typer.Argument(help="部门报送的文件：CSV、XLSX 或 JSON Lines")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="数据集代码或名称，如 XZCF")],
    dept: Annotated[str, typer.Option("--dept", help="报送部门统一社会信用代码")],
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 回执")] = False,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="把被拒绝的行写入此文件（与原文件同格式）")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验并回执，不入库")] = False,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="部门自有表格布局的映射文件（YAML）")
    ] = None,
) -> None:
    """归集一个部门文件：逐行校验、关联主体、入库，并给出回执。

    退出码：0 无拒绝行；1 部分行被拒绝（其余已入库）；2 文件被整体拒收（未入库）；
    3 另一批次正在入库、数据库忙（未入库，请稍后重试）。
    """
    req = IngestRequest(
        path=file,
        dataset=dataset,
        dept_uscc=dept.strip().upper(),
        actor=current_actor(),
        source=socket.gethostname(),
        mapping_path=mapping,
        rejects_path=rejects,
        chunk_rows=settings().ingest_chunk_rows,
        columnar=settings().ingest_columnar,
    )
    refused = None if dry_run else "batch.ingest"
    detail = {"file": file.name, "dataset": dataset, "dept": req.dept_uscc}
    with (
        transaction(
            as_json=as_json, rollback=dry_run, audit_as=refused, audit_detail=detail
        ) as conn,
        _progress() as tick,
    ):
        receipt = ingest(conn, catalog(), req, progress=tick)
    if dry_run:
        receipt.batch_id = None
    if as_json:
        sys.stdout.write(json.dumps(receipt.as_dict(), ensure_ascii=False) + "\n")
    else:
        _print_receipt(receipt, dry_run=dry_run, rejects=rejects)
    raise typer.Exit(1 if receipt.rejected else 0)


class _progress:
    """A progress bar on a terminal (standard error); silent when piped."""

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            self._bar = None
            return None
        self._bar = Progress(
            TextColumn("归集中"),
            BarColumn(),
            TextColumn("{task.completed:,} 行"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self._bar.__enter__()
        task = self._bar.add_task("ingest", total=None)
        bar = self._bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _print_receipt(receipt: Receipt, *, dry_run: bool, rejects: Path | None) -> None:
    title = "试运行回执（未入库）" if dry_run else f"归集回执 批次 {receipt.batch_id}"
    table = Table(title=f"{title} · 数据集 {receipt.dataset}")
    for col in ("收到", "新增", "更新", "未变", "待关联", "拒绝", "提示"):
        table.add_column(col, justify="right")
    table.add_row(
        *(
            f"{n:,}"
            for n in (
                receipt.received,
                receipt.new,
                receipt.updated,
                receipt.unchanged,
                receipt.pending,
                receipt.rejected,
                len(receipt.warnings),
            )
        )
    )
    out.print(table)
    _problems("被拒绝的行", receipt.rejects)
    _problems("提示", receipt.warnings)
    if rejects is not None and receipt.rejected:
        out.print(f"被拒绝的行已写入 {rejects}，修改后可只重新报送这些行。")


def _problems(title: str, problems: list[dict[str, Any]], limit: int = 50) -> None:
    if not problems:
        return
    table = Table(title=title)
    for col in ("行", "字段", "值", "代码", "原因"):
        table.add_column(col, overflow="fold")
    for p in problems[:limit]:
        table.add_row(
            str(p["row"]), p["field"] or "", (p["value"] or "")[:40], p["code"], p["message"]
        )
    out.print(table)
    if len(problems) > limit:
        out.print(f"……另有 {len(problems) - limit:,} 条，完整列表请用 --json 或 --rejects。")


@batch_app.command("show")
def batch_show(
    batch_id: int,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """显示一个批次：报送部门、文件、计数和每一条拒绝原因。"""
    with transaction(as_json=as_json) as conn:
        # the command line reads as the operator it is, and the read is audited like the web's
        batch = batch_for(conn, Principal.cli(current_actor()), batch_id, limit=None)
    if as_json:
        sys.stdout.write(json.dumps(batch, ensure_ascii=False, default=str) + "\n")
        return
    out.print(
        f"批次 {batch['id']} · {batch['dataset']} · 部门 {batch['dept_uscc']} · "
        f"文件 {batch['file_name']}（{batch['file_format']}"
        f"{'，' + batch['encoding'] if batch['encoding'] else ''}）"
    )
    out.print(
        f"SHA-256 {batch['file_sha256']} · 接收于 {local_time(batch['received_at'])}"
        f" · 操作人 {batch['actor']}"
    )
    out.print(
        f"收到 {batch['received']:,} · 新增 {batch['new']:,} · 更新 {batch['updated']:,} · "
        f"未变 {batch['unchanged']:,} · 待关联 {batch['pending']:,} · 拒绝 {batch['rejected']:,}"
    )
    _problems("被拒绝的行", batch["rejects"], limit=200)
    _problems("提示", batch["warning_list"], limit=200)


@batch_app.command("rejects")
def batch_rejects_command(
    batch_id: int,
    output: Annotated[Path, typer.Option("--output", "-o", help="写出的文件")],
) -> None:
    """重新导出一个批次被拒绝的行（与原文件同格式、同编码，另加“错误原因”列）。"""
    with transaction() as conn:
        batch_owned(conn, Principal.cli(current_actor()), batch_id)
        count = export_rejects(conn, catalog(), batch_id, output)
    out.print(f"已写出 {count:,} 行被拒绝的数据：{output}")


def batches_command(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d")] = None,
    dept: Annotated[str | None, typer.Option("--dept")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出最近的归集批次。"""
    with transaction(as_json=as_json) as conn:
        rows = list_batches(conn, dataset=dataset, dept_uscc=dept, limit=limit)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str) + "\n")
        return
    table = Table(title="归集批次")
    for col in (
        "批次",
        "数据集",
        "部门",
        "文件",
        "接收时间",
        "收到",
        "新增",
        "更新",
        "未变",
        "待关联",
        "拒绝",
    ):
        table.add_column(col)
    for b in rows:
        table.add_row(
            str(b["id"]),
            b["dataset"],
            b["dept_uscc"],
            b["file_name"],
            local_time(b["received_at"]),
            *(
                f"{b[k]:,}"
                for k in ("received", "new", "updated", "unchanged", "pending", "rejected")
            ),
        )
    out.print(table)
