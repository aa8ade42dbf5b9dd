"""`xinyong subject CODE`, `xinyong subjects pending|link`, `xinyong records withdraw|show`."""

from __future__ import annotations

import json
import socket
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from xinyong.accounts.roles import Principal
from xinyong.audit.queries import record_read
from xinyong.cli.context import actor, catalog, fail, out, read_purpose, transaction
from xinyong.disclosure.in_force import as_of as answer_day
from xinyong.disclosure.in_force import effective_state
from xinyong.errors import NotFound
from xinyong.records import service as records_service
from xinyong.records.keys import KEY_SEP
from xinyong.subjects.service import find_subject

subjects_app = typer.Typer(help="信用主体：待关联队列与人工关联", no_args_is_help=True)
records_app = typer.Typer(help="信用记录：查看、历史版本、撤销", no_args_is_help=True)


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


PURPOSE_HELP = "查询事由（必填），如 行政审批、日常监管、执法检查、评优评先、招标采购 或具体用途"


def subject_command(
    code: Annotated[
        str, typer.Argument(help="统一社会信用代码、组织机构代码、工商注册号或身份证号")
    ],
    purpose: Annotated[str | None, typer.Option("--purpose", help=PURPOSE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """查看一个信用主体：代码、名称（含曾用名）和按数据集分组的记录。找不到时退出码为 1。

    命令行显示全部记录（含非公开信息、未脱敏），须以 --purpose 说明查询事由；本次查看记入
    审计日志（subject.read，带事由），信用主体可在查询记录中看到。"""
    stated = read_purpose(purpose, as_json)
    missing: NotFound | None = None
    with transaction(as_json=as_json) as conn:
        try:
            subject = find_subject(conn, code)
            recs = records_service.records_of_subject(conn, subject["id"])
            on = answer_day(conn)
        except NotFound as exc:  # not an error of the request: "nothing found" is exit 1
            missing = exc
        else:
            record_read(
                conn,
                Principal.cli(actor()),
                subject["id"],
                what="subject.read",
                purpose=stated,
                detail={"datasets": sorted({r["dataset"] for r in recs})},
            )
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    cat = catalog()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        # the state as it reads today (the disclosure engine), not as the last daily run left it
        r["stored_state"] = r["state"]
        r["state"] = effective_state(r["state"], r["publicity_max_end"], on)
        grouped.setdefault(r["dataset"], []).append(r)
    if as_json:
        _dump(
            {
                "subject": {k: v for k, v in subject.items()},
                "records": {
                    ds: [
                        {
                            "id": r["id"],
                            "state": r["state"],
                            "stored_state": r["stored_state"],
                            "publicity_max_end": r["publicity_max_end"],
                            "version": r["version"],
                            "dept_uscc": r["dept_uscc"],
                            "decision_date": r["decision_date"],
                            "data": r["data"],
                        }
                        for r in rs
                    ]
                    for ds, rs in grouped.items()
                },
            }
        )
        return
    out.print(f"[bold]{subject['name']}[/bold]（{subject['category']}，{subject['database']}库）")
    for label, key in (
        ("统一社会信用代码", "uscc"),
        ("组织机构代码", "org_code"),
        ("工商注册号", "reg_no"),
        ("身份证号", "id_number"),
        ("其他证件", "other_id"),
        ("登记状态", "status"),
    ):
        if subject.get(key):
            out.print(f"  {label}：{subject[key]}")
    for n in subject["names"]:
        kind = {"former": "曾用名", "seen": "其他写法"}.get(n["kind"], n["kind"])
        out.print(f"  {kind}：{n['name']}")
    if not recs:
        out.print("暂无记录。")
    for ds_code, rs in grouped.items():
        ds = cat.datasets.get(ds_code)
        table = Table(title=f"{ds.name if ds else ds_code}（{len(rs)} 条）")
        for col in ("记录", "状态", "版本", "决定日期", "报送部门", "摘要"):
            table.add_column(col, overflow="fold")
        for r in rs:
            key = r["natural_key"].split(KEY_SEP)[0]
            table.add_row(
                str(r["id"]),
                r["state"],
                str(r["version"]),
                str(r["decision_date"] or ""),
                r["dept_uscc"],
                key,
            )
        out.print(table)


@subjects_app.command("pending")
def pending_command(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出缺少主体代码、等待人工关联的记录，并按名称给出候选主体。"""
    with transaction(as_json=as_json) as conn:
        rows = records_service.pending(conn, dataset=dataset, limit=limit)
        for r in rows:
            r["candidates"] = records_service.suggestions(conn, catalog(), r)
    if as_json:
        _dump(rows)
        return
    if not rows:
        out.print("没有待关联的记录。")
        return
    table = Table(title="待关联记录")
    for col in ("待关联编号", "数据集", "主体名称", "报送部门", "批次/行", "候选主体"):
        table.add_column(col, overflow="fold")
    cat = catalog()
    for r in rows:
        ds = cat.dataset(r["dataset"])
        cands = "；".join(
            f"{c['name']} {c['uscc'] or c['id_number'] or ''}" for c in r["candidates"]
        )
        table.add_row(
            str(r["id"]),
            r["dataset"],
            r["data"].get(ds.subject.name, ""),
            r["dept_uscc"],
            f"{r['batch_id']}/{r['row_no']}",
            cands,
        )
    out.print(table)
    out.print("用 `xinyong subjects link 待关联编号 代码` 把记录归到主体名下。")


@subjects_app.command("link")
def link_command(
    pending_id: Annotated[int, typer.Argument(help="待关联编号（记录编号）")],
    code: Annotated[
        str, typer.Argument(help="主体的统一社会信用代码、组织机构代码、注册号或身份证号")
    ],
) -> None:
    """把一条待关联记录归到代码所指的主体名下（主体不存在时新建）。"""
    with transaction(audit_as="subject.link", audit_detail={"record": pending_id}) as conn:
        record = records_service.link_pending(
            conn, catalog(), pending_id, code, actor=actor(), source=socket.gethostname()
        )
    out.print(f"记录 {record['id']} 已关联到主体 {record['subject_id']}。")


@records_app.command("withdraw")
def withdraw_command(
    record_id: int,
    dept: Annotated[str, typer.Option("--dept", help="报送部门统一社会信用代码")],
    reason: Annotated[str, typer.Option("--reason", help="撤销理由，如“行政复议撤销原决定”")],
) -> None:
    """撤销本部门的一条记录：记录保留并标记为已撤销，不再公开。"""
    with transaction(audit_as="record.withdraw", audit_detail={"record": record_id}) as conn:
        record = records_service.withdraw(
            conn,
            record_id,
            dept_uscc=dept.strip().upper(),
            reason=reason,
            actor=actor(),
            source=socket.gethostname(),
        )
    out.print(f"记录 {record['id']} 已撤销（{record['withdrawn_reason']}）。")


@records_app.command("show")
def show_command(
    record_id: int,
    purpose: Annotated[str | None, typer.Option("--purpose", help=PURPOSE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """显示一条记录的现行版本和全部历史版本。

    记录及其历史版本含非公开信息，须以 --purpose 说明查询事由；本次查看记入审计日志
    （record.read，带事由），信用主体可在查询记录中看到。"""
    stated = read_purpose(purpose, as_json)
    with transaction(as_json=as_json) as conn:
        record = records_service.get_record(conn, record_id)
        versions = records_service.history(conn, record_id)
        if record["subject_id"] is not None:
            record_read(
                conn,
                Principal.cli(actor()),
                record["subject_id"],
                what="record.read",
                purpose=stated,
                record_ids=[record["id"]],
                detail={"datasets": [record["dataset"]]},
            )
    if as_json:
        _dump({"record": record, "history": versions})
        return
    out.print(
        f"记录 {record['id']} · {record['dataset']} · 状态 {record['state']}"
        f" · 第 {record['version']} 版 · 部门 {record['dept_uscc']}"
        f" · 主体 {record['subject_id'] or '待关联'}"
    )
    if record["withdrawn_at"]:
        out.print(f"撤销于 {record['withdrawn_at']}：{record['withdrawn_reason']}")
    for key, value in record["data"].items():
        out.print(f"  {key}: {value}")
    for v in versions:
        out.print(
            f"— 第 {v['version']} 版（批次 {v['batch_id']} 第 {v['row_no']} 行，"
            f"止于 {v['valid_to']}，{v['change']}）"
        )
        for key, value in v["data"].items():
            if record["data"].get(key) != value:
                out.print(f"    {key}: {value} → {record['data'].get(key, '（空）')}")
