"""`xinyong code check`: check codes from the command line (代码校验).

Covers 统一社会信用代码 (GB 32100), 组织机构代码 (GB 11714), 工商注册号 (GS 15) and
居民身份证号码 (GB 11643). A thin shell over :mod:`xinyong.codes`; all rules live there.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from xinyong.cli.context import make_console, settings
from xinyong.codes import FACT_LABELS, KIND_NAMES, CodeCheck, check_code

app = typer.Typer(help="代码校验：统一社会信用代码、组织机构代码、工商注册号、身份证号")


def _as_json(raw: str, result: CodeCheck) -> dict[str, object]:
    return {"input": raw, **result.as_dict()}


def _print_result(console: Console, raw: str, result: CodeCheck) -> None:
    console.print(f"[bold]{escape(raw)}[/bold]")
    console.print(f"  类型：{KIND_NAMES.get(result.kind, KIND_NAMES['unknown'])}")
    console.print(f"  规范化：{escape(result.value)}")
    facts = result.facts
    for key, label in FACT_LABELS.items():
        if key not in facts or key == "division_name":
            continue
        text = facts[key]
        if key == "division" and "division_name" in facts:
            # Code and name on one line read as one fact to a clerk.
            label, text = "行政区划", f"{text} {facts['division_name']}"
        console.print(f"  {label}：{escape(text)}")
    for warning in result.warnings:
        console.print(f"  [yellow]提示：{escape(warning)}[/yellow]")
    if result.ok:
        console.print("  结果：[green]有效[/green]")
    else:
        console.print(f"  结果：[red]无效[/red]（{escape(result.message or '')}）")


@app.command("check")
def check(
    values: Annotated[list[str], typer.Argument(metavar="VALUE", help="要校验的代码，可给多个")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 列表输出")] = False,
) -> None:
    """校验代码并显示类型、规范化形式、派生信息和结论；全部有效时退出码为 0，否则为 1。"""
    today = settings().clock.today()
    results = [(raw, check_code(raw, today)) for raw in values]
    if as_json:
        typer.echo(json.dumps([_as_json(r, c) for r, c in results], ensure_ascii=False, indent=2))
    else:
        console = make_console(highlight=False, soft_wrap=True)
        for raw, result in results:
            _print_result(console, raw, result)
    raise typer.Exit(code=0 if all(c.ok for _, c in results) else 1)
