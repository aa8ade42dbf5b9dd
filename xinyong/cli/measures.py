"""`xinyong measures list|show|stats|overdue`: the measures list and the feedback figures."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from xinyong.checks.feedback import feedback_stats, overdue_checks
from xinyong.cli.context import catalog, fail, out, settings, transaction
from xinyong.departments import service as departments
from xinyong.errors import XinyongError
from xinyong.measures.catalog import Measures, load_measures, measures_dir

app = typer.Typer(help="联合奖惩措施清单与反馈统计", no_args_is_help=True)


def _measures() -> Measures:
    cat = catalog()
    return load_measures(measures_dir(cat), cat)


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


@app.command("list")
def list_command(
    matter: Annotated[str | None, typer.Option("--matter", help="只列此业务事项适用的措施")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="reward 或 punishment")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出措施清单（可按业务事项、激励/惩戒筛选）。"""
    try:
        ms = _measures()
        code = ms.matter(matter).code if matter else None
    except XinyongError as exc:
        fail(exc, as_json=as_json)
    chosen = [
        m
        for m in ms.measures.values()
        if (code is None or code in m.matters) and (kind is None or m.kind.value == kind)
    ]
    if as_json:
        _dump({"measures": [m.summary() | {"matters": list(m.matters)} for m in chosen]})
        return
    table = Table("编号", "类别", "应当/可以", "具体事项", "实施主体", "依据")
    for m in chosen:
        table.add_row(
            m.id,
            m.kind.label,
            m.obligation.label,
            m.content,
            "、".join(m.implementers),
            m.basis_text(),
        )
    out.print(table)
    out.print(
        f"共 {len(chosen)} 项措施；业务事项："
        + "、".join(f"{x.code}（{x.name}）" for x in ms.matters.values() if not x.retired)
    )


@app.command("show")
def show_command(
    measure_id: Annotated[str, typer.Argument(help="措施编号，如 HN34-4")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """显示一项措施的全部内容。找不到时退出码为 1。"""
    try:
        ms = _measures()
        m = ms.measure(measure_id)
    except XinyongError as exc:
        fail(exc, as_json=as_json, status=1 if exc.code == "MEASURE_UNKNOWN" else 2)
    with transaction(as_json=as_json, rollback=True) as conn:
        registered = departments.all_departments(conn)
    data = m.model_dump(mode="json") | {
        "basis_text": m.basis_text(),
        "dept_usccs": list(ms.depts_of(m, registered)),
        "file": str(ms.files.get(m.id, "")),
    }
    if as_json:
        _dump(data)
        return
    names = {
        "id": "编号",
        "list": "清单",
        "kind": "激励/惩戒",
        "obligation": "应当/可以",
        "content": "具体事项",
        "target": "实施对象",
        "means": "实施手段",
        "implementers": "实施主体",
        "basis_text": "实施依据",
        "triggers": "触发条件",
        "matters": "业务事项",
        "valid_from": "有效期起",
        "valid_until": "有效期止",
        "evidence": "可信度",
        "dept_usccs": "通知部门",
        "file": "文件",
    }
    for key, label in names.items():
        out.print(f"{label}：{data.get(key)}", highlight=False)


@app.command("stats")
def stats_command(
    dept: Annotated[
        str | None, typer.Option("--dept", help="只统计此部门（统一社会信用代码）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """核查命中措施的反馈率与实施率：按部门、按措施。"""
    with transaction(as_json=as_json, rollback=True) as conn:
        stats = feedback_stats(conn, dept)
        dept_names = departments.names(conn)
    if as_json:
        _dump(stats)
        return
    for title, key in (("按部门", "by_department"), ("按措施", "by_measure")):
        table = Table(title, "返回措施数", "已反馈", "已实施", "反馈率", "实施率")
        for r in stats[key]:
            who = r["key"] or "平台管理员"
            if key == "by_department" and r["key"] in dept_names:
                who = dept_names[r["key"]]
            table.add_row(
                str(who),
                str(r["returned"]),
                str(r["answered"]),
                str(r["applied"]),
                f"{r['feedback_rate']:.1%}",
                f"{r['action_rate']:.1%}",
            )
        out.print(table)


@app.command("overdue")
def overdue_command(
    dept: Annotated[str | None, typer.Option("--dept", help="只列此部门")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD，默认今天")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出反馈逾期的核查。"""
    try:
        day = date.fromisoformat(as_of) if as_of else settings().clock.today()
    except ValueError:
        fail(XinyongError("DATE_INVALID", f"日期格式应为 YYYY-MM-DD：{as_of}"), as_json=as_json)
    with transaction(as_json=as_json, rollback=True) as conn:
        rows = overdue_checks(conn, dept, as_of=day)
    if as_json:
        _dump({"overdue": rows})
        return
    table = Table("核查号", "部门", "业务事项", "核查日期", "反馈期限", "未反馈措施")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["dept_uscc"]),
            r["matter"],
            str(r["checked_on"]),
            str(r["deadline"]) + ("（暂定）" if r["deadline_provisional"] else ""),
            str(r["missing"]),
        )
    out.print(table)
