"""`xinyong evaluate`: credit evaluation (信用评价) from the command line.

``xinyong evaluate MODEL [--as-of DATE] [--json]`` runs a model for every subject it covers
and switches to the new run; ``evaluate show MODEL CODE [--run N] [--json]`` gives one
subject's grade, score, points by indicator with the records behind them and what would
change the grade; ``evaluate runs MODEL`` lists the runs; ``evaluate monitor MODEL [--run N]``
the grade distribution by industry and district with its PSI against the previous run.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape

from xinyong.accounts.roles import Principal, Role
from xinyong.cli.context import actor, catalog, fail, out, read_purpose, transaction
from xinyong.errors import XinyongError
from xinyong.evaluation import service
from xinyong.subjects.service import find_subject

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]
USAGE = (
    "用法：xinyong evaluate MODEL [--as-of 日期]；evaluate show MODEL 代码 [--run N]；"
    "evaluate runs MODEL；evaluate monitor MODEL [--run N]"
)


def _emit(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def evaluate_command(
    words: Annotated[
        list[str], typer.Argument(help="MODEL，或 show MODEL 代码 / runs MODEL / monitor MODEL")
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评价基准日（YYYY-MM-DD），默认今天")
    ] = None,
    run: Annotated[int | None, typer.Option("--run", help="评价批次号，默认当前批次")] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="查询事由（show 必填），如 日常监管")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """信用评价：运行评价模型，查看主体的评价结果与说明、批次和监测。

    show 显示主体评价的全部说明（含依据记录），须以 --purpose 说明查询事由，记入审计日志。"""
    principal = Principal(role=Role.OPERATOR, name=actor(), source="cli")
    cat = catalog()
    action, args = (
        (words[0], words[1:]) if words[0] in ("show", "runs", "monitor") else ("run", words)
    )
    wanted = {"run": 1, "show": 2, "runs": 1, "monitor": 1}[action]
    if len(args) != wanted:
        fail(XinyongError("USAGE", USAGE), as_json=as_json)
    day: date | None = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            fail(XinyongError("BAD_DATE", f"日期格式应为 YYYY-MM-DD：{as_of}"), as_json=as_json)
    if action == "run":
        with transaction(as_json=as_json) as conn:
            done = service.evaluate(conn, cat, principal, args[0], as_of=day)
        if as_json:
            _emit(done.as_dict())
        else:
            out.print(
                f"评价模型 {done.model} 第 {done.id} 批次已生效：基准日 {done.as_of}，"
                f"评价主体 {done.subjects} 个。",
                highlight=False,
            )
        return
    if action == "show":
        stated = read_purpose(purpose, as_json)
        with transaction(as_json=as_json) as conn:  # committed: the read's audit event
            subject = find_subject(conn, args[1])
            found = service.explain(
                conn, cat, principal, args[0], subject["id"], run_id=run, purpose=stated
            )
        if as_json:
            _emit(found)
            return
        _print_explanation(found)
        return
    if action == "runs":
        with transaction(as_json=as_json, rollback=True) as conn:
            runs = service.run_list(conn, cat, principal, args[0])
        if as_json:
            _emit([r.as_dict() for r in runs])
            return
        for r in runs:
            out.print(f"第 {r.id} 批次  基准日 {r.as_of}  主体 {r.subjects} 个", highlight=False)
        return
    with transaction(as_json=as_json, rollback=True) as conn:
        dist = service.monitor(conn, cat, principal, args[0], run_id=run)
    if as_json:
        _emit(dist.as_dict())
        return
    total = sum(dist.overall.values()) or 1
    out.print(f"第 {dist.run.id} 批次（基准日 {dist.run.as_of}）等级分布：", highlight=False)
    for g in dist.grades:
        n = dist.overall.get(g, 0)
        out.print(f"  {g:<6} {n:>8}  {n / total:6.1%}", highlight=False)
    if dist.psi is not None:
        out.print(f"与上一批次相比 PSI = {dist.psi:.4f}", highlight=False)
    for alert in dist.alerts:
        out.print(f"[red]预警[/red]：{escape(alert)}", highlight=False)


def _print_explanation(found: dict[str, Any]) -> None:
    out.print(
        f"{escape(found['model_name'])}（基准日 {found['as_of']}）：等级 {found.get('grade')}"
        + (
            f"（{found['grade_label']}）"
            if found.get("grade_label") and found["grade_label"] != found.get("grade")
            else ""
        )
        # a rating's score is the number of criteria met, printed with them below
        + (f"，得分 {found['score']}" if "score" in found and "criteria" not in found else "")
        + (f"，监管分类 {found['class']}（{found['class_label']}）" if found.get("class") else ""),
        highlight=False,
    )
    if found.get("hard_rule_name"):
        out.print(f"硬性规则：{escape(found['hard_rule_name'])}", highlight=False)
    if found.get("advice"):
        out.print(f"监管建议：{escape(found['advice'])}", highlight=False)
    if "criteria" in found:
        out.print(
            f"达到条件 {found['criteria_met']}/{found['criteria_total']} 项：", highlight=False
        )
    for c in found.get("criteria", []):
        out.print(
            f"  {'✓' if c['met'] else '✗'} {escape(c['name'])}：{escape(c['figure_text'])}"
            f"（标准 {escape(c['threshold'])}）",
            highlight=False,
        )
    for lack in found.get("to_pass", []):
        out.print(f"  尚未达到：{escape(lack)}", highlight=False)
    for ind in found.get("indicators", []):
        if not ind.get("points") and not ind.get("records"):
            continue
        out.print(
            f"  {ind.get('dimension', '')}·{ind['name']}：{ind['points']:+g} 分", highlight=False
        )
        for rec in ind.get("records", []):
            out.print(
                f"      记录 {rec['record_id']} {rec['dataset_name']} {rec['decision_date'] or ''} "
                f"{rec['points']:+g}",
                highlight=False,
            )
    for change in found.get("changes", []):
        out.print(
            f"  {change['on']} 起 记录 {change['record_id']} {change['what']}："
            f"等级 {change['grade_then']}，分类 {change['class_then'] or '—'}，"
            f"得分 {change['score_then']}",
            highlight=False,
        )
