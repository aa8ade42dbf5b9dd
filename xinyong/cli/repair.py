"""`xinyong repair eligibility|apply|decide`: credit repair (信用修复) from the command line.

``eligibility`` answers for one record whether it can be repaired, from which date, under which
rule, or why never (``--json``: ``repairable``, ``from``, ``reason``, ``rule``). ``apply`` files
an application at the window; ``decide`` approves or rejects as the deciding department
(``--dept``) or the operator. A refused command is an audit event (``case.refused``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from xinyong.accounts.roles import Principal, Role
from xinyong.cases import files as case_files
from xinyong.cases import repair
from xinyong.cli.cases import DeptOpt, JsonOpt, _calendar, _emit, _principal
from xinyong.cli.context import actor, catalog, fail, out, settings, transaction
from xinyong.errors import XinyongError
from xinyong.measures.catalog import load_measures, measures_dir

app = typer.Typer(help="信用修复：修复资格查询、申请与决定", no_args_is_help=True)


@app.command("eligibility")
def eligibility_command(record_id: int, as_json: JsonOpt = False) -> None:
    """一条记录能否信用修复、何日起可申请、依据哪一规则，或为何不能修复。"""
    principal = Principal(role=Role.OPERATOR, name=actor(), source="cli")
    cat = catalog()
    with transaction(as_json=as_json) as conn:
        found = repair.record_eligibility(conn, cat, principal, record_id)
    if as_json:
        sys.stdout.write(json.dumps(found.as_dict(), ensure_ascii=False) + "\n")
        return
    verdict = "可以修复" if found.repairable else "不能修复"
    out.print(f"记录 {record_id}：{verdict}。{escape(found.reason)}", highlight=False)
    if found.from_date:
        out.print(f"可申请信用修复日期：{found.from_date}", highlight=False)
    if found.rule_name:
        out.print(f"适用规则：{escape(found.rule_name)}", highlight=False)
    if found.basis:
        out.print(f"依据：{escape(found.basis)}", highlight=False)


@app.command("apply")
def apply_command(
    record_id: int,
    correction: Annotated[str, typer.Option("--correction", help="纠正失信行为、履行义务的情况")],
    signed_by: Annotated[str, typer.Option("--signed-by", help="信用承诺书的承诺人")],
    proof: Annotated[
        list[Path] | None, typer.Option("--file", help="证明材料（PDF、JPEG、PNG），可多次给出")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """窗口代录信用修复申请（附信用承诺书与证明材料），由认定部门决定。"""
    principal = _principal(None, as_json)
    cal = _calendar(as_json)
    try:
        uploads = [case_files.Upload(p.name, p.read_bytes()) for p in proof or []]
    except OSError as exc:
        fail(XinyongError("FILE_UNREADABLE", f"无法读取证明材料：{exc}"), as_json=as_json)
    with transaction(
        as_json=as_json,
        audit_as="case.refused",
        audit_detail={"case_no": None, "command": "repair apply", "record": record_id},
    ) as conn:
        found, code = repair.apply(
            conn,
            principal,
            catalog(),
            cal,
            record_id,
            correction=correction,
            signed_by=signed_by,
            uploads=uploads,
            data_dir=settings().data_dir,
        )
    _emit(found, as_json, {"follow_code": code} if as_json else {"查询码（仅显示一次）": code})


@app.command("decide")
def decide_command(
    case_no: str,
    outcome: Annotated[
        str, typer.Option("--outcome", help="approved（准予修复）/ rejected（不予修复）")
    ],
    reason: Annotated[str, typer.Option("--reason", help="决定的理由")],
    dept: DeptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """准予或不予信用修复；准予后记录停止公示、停止共享、不再触发惩戒措施。"""
    principal = _principal(dept, as_json)
    cat = catalog()
    with transaction(
        as_json=as_json,
        audit_as="case.refused",
        audit_detail={"case_no": case_no, "command": "repair decide"},
    ) as conn:
        closed = repair.decide(
            conn,
            principal,
            cat,
            load_measures(measures_dir(cat), cat),
            case_no,
            outcome=outcome,
            reason=reason,
        )
    _emit(closed, as_json)
