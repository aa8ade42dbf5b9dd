"""`xinyong daily`: the once-a-day work (publicity expiry, and what other domains add)."""

from __future__ import annotations

import json
import socket
import sys
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from xinyong.cli.context import actor, fail, out, settings, transaction
from xinyong.errors import XinyongError
from xinyong.jobs import run_daily

# What each step's counts mean, for people.
_LABELS: dict[str, str] = {
    "publicity.expiry": "公示期满",
    "calendar.provisional": "暂定反馈期限重算",
    "cases.provisional": "暂定办件期限重算",
    "calendar.next_year": "明年工作日历",
    "monitoring.flags": "数据监测",
    "exchange.changes": "数据交换变更编号",
    "exchange.verify_overdue": "接收数据包核实",
    "opendata.build": "开放数据下载文件",
}
_COUNTS: dict[str, str] = {
    "expired": "停止公示（归档保留）",
    "confirmed": "已按工作日历确定",
    "changed": "其中期限改变",
    "still_provisional": "仍为暂定",
    "next_year_missing": "缺失",
    "silent": "逾期未报送",
    "low": "报送量偏低",
    "high": "报送量异常偏高",
    "changes": "新编号变更",
    "overdue": "超过核实期限",
    "built": "已生成",
    "rows": "公开记录",
}


def daily_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="按哪一天执行（YYYY-MM-DD），默认今天（北京时间）"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """执行每日任务：公示期满的记录停止公示（归档保留）等；重复执行不会重复处理。"""
    # the day it is for the platform's users (the rules count days in Beijing time)
    day = settings().clock.today()
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of.strip())
        except ValueError:
            fail(
                XinyongError("DATE_INVALID", f"日期“{as_of}”无效，应写作 YYYY-MM-DD"),
                as_json=as_json,
            )
    with transaction(
        as_json=as_json, audit_as="daily.run", audit_detail={"as_of": str(day)}
    ) as conn:
        result = run_daily(
            conn,
            as_of=day,
            actor=actor(),
            source=socket.gethostname(),
            catalog_dir=settings().catalog_dir,
            opendata_dir=settings().data_dir / "opendata",
        )
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        return
    out.print(f"每日任务已完成（执行日期 {day.isoformat()}）：", highlight=False)
    for name, counts in result.steps.items():
        label = _LABELS.get(name, name)
        text = "，".join(f"{_COUNTS.get(k, k)} {v} 条" for k, v in counts.items())
        out.print(f"  {label}：{text}", highlight=False)
    for warning in result.warnings:
        out.print(f"[yellow]提醒：{escape(warning)}[/yellow]", highlight=False)
    for finding in result.findings:
        out.print(f"  数据监测：{escape(finding)}", highlight=False)
