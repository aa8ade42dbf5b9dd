"""`xinyong report CODE --output FILE.pdf`, `xinyong report verify NO`, `xinyong report render NO`.

The command line issues the public report (公开版) of a legal person, as anyone may obtain it
from the portal: the operator asking sees no more in it than the public would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from xinyong.accounts.roles import Principal
from xinyong.cli.context import actor, catalog, fail, local_time, out, settings, transaction
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.reports.content import ReportKind
from xinyong.reports.service import get_report, issue_report, verify_report
from xinyong.subjects.service import find_subject


class _IssueByDefault(TyperGroup):
    """`xinyong report CODE …` means `xinyong report issue CODE …`: issuing is what the
    command is for, and a subject code is never the name of a subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["issue", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_IssueByDefault,
    help="公共信用信息报告：出具（xinyong report 代码 --output 文件.pdf）、核验、重新生成 PDF",
    no_args_is_help=True,
)


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def _render(report: Any) -> bytes:
    # reportlab costs more start-up than the rest of the command line together: loaded only
    # by the commands that draw a PDF, so `xinyong --help` and `xinyong ingest` start fast.
    from xinyong.reports.pdf import render_report

    return render_report(report, settings())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@app.command("issue")
def issue_command(
    code: Annotated[str, typer.Argument(help="统一社会信用代码、组织机构代码或工商注册号")],
    output: Annotated[Path, typer.Option("--output", "-o", help="写入 PDF 的文件")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """出具一个法人或非法人组织的公共信用信息报告（公开版），保存快照并写出 PDF。"""
    refused: XinyongError | None = None
    principal = Principal.cli(actor())
    with transaction(as_json=as_json, audit_as="report.issue", audit_detail={"code": code}) as conn:
        try:
            subject = find_subject(conn, code)
            report = issue_report(
                conn, catalog(), principal, subject["id"], kind=ReportKind.PUBLIC, render=_render
            )
        except (NotFound, NotAllowed) as exc:  # nothing to report on: exit 1, not bad input
            refused = exc
        else:
            # written before the commit: a report is stored only with its PDF
            assert report.pdf is not None
            _write(output, report.pdf)
    if refused is not None:
        fail(refused, as_json=as_json, status=1)
    if as_json:
        _dump(
            {
                "report_no": report.report_no,
                "subject_id": report.subject_id,
                "kind": report.kind.value,
                "sha256": report.sha256,
                "pdf_sha256": report.pdf_sha256,
                "snapshot_at": report.snapshot_at.isoformat(),
                "output": str(output),
            }
        )
        return
    out.print(f"已出具公共信用信息报告：{subject['name']}", highlight=False)
    out.print(f"  报告编号：{report.grouped_no}", highlight=False)
    out.print(f"  数据截至：{local_time(report.snapshot_at)}（北京时间）", highlight=False)
    out.print(f"  SHA-256：{report.sha256}", highlight=False)
    out.print(f"  PDF：{output}", highlight=False)


@app.command("verify")
def verify_command(
    report_no: Annotated[str, typer.Argument(help="报告编号，如 XY20261127…")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """核验报告：重新计算所存快照的 SHA-256 并与签发时比对。

    一致时退出码为 0，不一致或编号不存在时为 1。
    """
    missing: NotFound | None = None
    with transaction(as_json=as_json, rollback=True) as conn:
        try:
            result = verify_report(conn, report_no)
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if as_json:
        _dump(result.as_dict())
    else:
        colour = "green" if result.genuine else "red"
        out.print(f"[{colour}]{result.status.label}[/{colour}]", highlight=False)
        out.print(f"  报告编号：{result.report_no}", highlight=False)
        if result.content is not None:
            out.print(f"  信用主体：{result.content['subject']['name']}", highlight=False)
            out.print(f"  报告类型：{result.content['kind_label']}", highlight=False)
        out.print(f"  数据截至：{local_time(result.snapshot_at)}（北京时间）", highlight=False)
        out.print(f"  签发时 SHA-256：{result.stored_sha256}", highlight=False)
        out.print(f"  现计算 SHA-256：{result.computed_sha256}", highlight=False)
    if not result.genuine:
        raise typer.Exit(1)


@app.command("render")
def render_command(
    report_no: Annotated[str, typer.Argument(help="报告编号")],
    output: Annotated[Path, typer.Option("--output", "-o", help="写入 PDF 的文件")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """按所存快照重新生成已出具报告的 PDF（内容与签发时相同）；快照被改动时拒绝生成。"""
    missing: NotFound | None = None
    with transaction(as_json=as_json, rollback=True) as conn:
        try:
            result = verify_report(conn, report_no)
            report = get_report(conn, report_no)
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if not result.genuine:
        fail(
            XinyongError("REPORT_ALTERED", "所存报告快照与签发时不一致，不能据此生成 PDF"),
            as_json=as_json,
            status=1,
        )
    try:
        _write(output, _render(report))
    except XinyongError as exc:
        fail(exc, as_json=as_json)
    except OSError as exc:
        fail(XinyongError("FILE_UNWRITABLE", f"无法写入文件：{exc}"), as_json=as_json)
    if as_json:
        _dump({"report_no": report.report_no, "output": str(output)})
    else:
        out.print(f"已重新生成报告 {report.report_no}：{output}", highlight=False)
