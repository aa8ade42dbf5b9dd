"""`xinyong assess` and `xinyong monitor`: the monthly department assessment (部门考核) with its
ranking and reasons, each late 双公示 record of a department, publishing the 通报; and the
data monitoring flags (数据监测) of a day."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xinyong.accounts.roles import Principal
from xinyong.assessment import figures, monitoring
from xinyong.assessment.figures import Period
from xinyong.assessment.service import assess, publish, rules_for
from xinyong.cli.catalog import console
from xinyong.cli.context import actor, catalog, fail, out, settings, transaction
from xinyong.errors import XinyongError
from xinyong.workdays.calendar import calendar_dir, work_calendar

JsonOpt = Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")]


def _period(text: str | None, as_json: bool) -> Period:
    if text is None:
        # the month before today's, the usual month to assess
        today = settings().clock.today()
        text = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
    try:
        return Period.month(text)
    except XinyongError as exc:
        fail(exc, as_json=as_json)


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


def assess_command(
    period: Annotated[
        str | None, typer.Option("--period", help="考核月份，如 2026-11；默认上个月")
    ] = None,
    late: Annotated[
        str | None,
        typer.Option("--late", help="列出该部门（统一社会信用代码）本期逐条超期报送的记录"),
    ] = None,
    publish_it: Annotated[
        bool, typer.Option("--publish", help="把本期考核结果作为通报发布到门户网站")
    ] = False,
    note: Annotated[str, typer.Option("--note", help="发布通报时写在排名前的说明")] = "",
    as_json: JsonOpt = False,
) -> None:
    """部门考核：按月计算各报送部门的双公示及时率、完整率、准确率、按期报送、反馈和办件及时率，
    加权排名并说明扣分原因。"""
    month = _period(period, as_json)
    cat = catalog()
    cal = work_calendar(calendar_dir(cat.root))
    if late is not None:
        _late(month, late.strip().upper(), as_json)
        return
    with transaction(
        as_json=as_json, audit_as="assessment.publish" if publish_it else None
    ) as conn:
        if publish_it:
            body = publish(conn, Principal.cli(actor()), cat, cal, month, note=note)
        else:
            body = assess(conn, cat, cal, month).as_dict()
    if as_json:
        _emit_json(body)
        return
    title = f"{month.label} 部门信用工作考核" + ("（已发布为通报）" if publish_it else "")
    table = Table(title=title)
    for col in ("名次", "部门", "得分", "等次", *(i["name"] for i in body["indicators"])):
        table.add_column(col)
    for d in body["departments"]:
        table.add_row(
            str(d["rank"] or "—"),
            escape(d["name"]),
            "—" if d["score"] is None else f"{d['score']:.1f}",
            d["grade"],
            *(_rate(i["rate"]) for i in d["indicators"]),
        )
    console().print(table)
    for d in body["departments"]:
        for reason in d["reasons"]:
            out.print(f"  {escape(d['name'])} — {escape(reason)}", highlight=False)


def _rate(rate: float | None) -> str:
    return "不适用" if rate is None else f"{rate:.1%}"


def _late(month: Period, dept: str, as_json: bool) -> None:
    cat = catalog()
    cal = work_calendar(calendar_dir(cat.root))
    timely = [i for i in rules_for(cat).indicators if i.kind == "timeliness"]
    with transaction(as_json=as_json) as conn:
        rows = [
            row
            for ind in timely
            for row in figures.late_records(
                conn, cal, month, ind.datasets, ind.within_working_days or 7, dept, cat
            )
        ]
    if as_json:
        _emit_json({"period": month.label, "dept_uscc": dept, "late": rows})
        return
    table = Table(title=f"{month.label} 超期报送的记录（{len(rows)} 条）")
    for col in ("数据集", "记录", "决定日期", "最迟应报送", "实际收到", "用时（工作日）"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["dataset_name"],
            escape(r["key"]),
            r["decision_date"],
            r["due"],
            r["received_on"],
            str(r["working_days"]),
        )
    console().print(table)


def monitor_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="按哪一天判断（YYYY-MM-DD），默认今天")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """数据监测：列出逾期未报送、报送量超出预期的部门和数据集（依目录中各数据集的 expected）。"""
    day = settings().clock.today()
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of.strip())
        except ValueError:
            fail(
                XinyongError("DATE_INVALID", f"日期“{as_of}”无效，应写作 YYYY-MM-DD"),
                as_json=as_json,
            )
    with transaction(as_json=as_json) as conn:
        found = monitoring.flags(conn, catalog(), day)
    if as_json:
        _emit_json({"as_of": day.isoformat(), "flags": [f.as_dict() for f in found]})
        return
    if not found:
        out.print(f"{day.isoformat()}：各部门均按期报送，无监测提示。", highlight=False)
        return
    table = Table(title=f"{day.isoformat()} 数据监测提示（{len(found)} 项）")
    for col in ("类别", "部门", "数据集", "最近报送", "说明"):
        table.add_column(col)
    for f in found:
        table.add_row(
            monitoring.KIND_LABELS[f.kind],
            escape(f.dept_name),
            f.dataset_name,
            f.last_delivery.isoformat() if f.last_delivery else "无",
            escape(f.message),
        )
    console().print(table)
