"""`xinyong authorisations list|record|confirm|revoke`: written authorisations (信用信息查询授权).

The command line acts as the built-in operator: it records paper authorisations brought to
the platform's counter and revokes authorisations on request. Dates are Beijing dates; an
authorisation "until 2025-06-30" is valid through the whole of that day.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection, select

from xinyong.accounts import authorisations as service
from xinyong.accounts.alerts import day_start
from xinyong.accounts.roles import Principal
from xinyong.audit.service import append_for
from xinyong.cli.context import actor, catalog, fail, local_time, out, settings, transaction
from xinyong.departments import service as departments
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.notifications import inbox
from xinyong.subjects.models import subjects
from xinyong.subjects.service import find_subject

app = typer.Typer(help="信用信息查询授权：登记书面授权、确认、撤销、查看", no_args_is_help=True)

_REFUSED = (NotFound, NotAllowed, Conflict)


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _principal() -> Principal:
    return Principal.cli(actor())


def _date(value: str, what: str, as_json: bool) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(
            XinyongError("DATE_INVALID", f"{what}应为 YYYY-MM-DD 格式的日期，而不是“{value}”"),
            as_json=as_json,
        )


def _note_refusal(conn: Connection, principal: Principal, action: str, error: XinyongError) -> None:
    """A refusal is an audit event; the command's transaction holds nothing else, so it is
    written there and committed with it."""
    if isinstance(error, NotFound):
        return
    append_for(
        conn,
        principal,
        action=action,
        outcome="denied",
        detail={"code": error.code, "message": error.message},
    )


def _subject_names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(select(subjects.c.id, subjects.c.name).where(subjects.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


def _scope(auth: service.Authorisation) -> str:
    return "全部授权查询类信息" if auth.datasets is None else "、".join(auth.datasets)


@app.command("record")
def record_command(
    subject_code: Annotated[
        str, typer.Argument(help="授权的信用主体：统一社会信用代码或身份证号等")
    ],
    dept: Annotated[str, typer.Option("--dept", help="查询单位（部门）的统一社会信用代码")],
    purpose: Annotated[str, typer.Option("--purpose", help="授权书写明的查询用途")],
    valid_from: Annotated[str, typer.Option("--from", help="有效期起始日期 YYYY-MM-DD")],
    valid_until: Annotated[str, typer.Option("--until", help="有效期截止日期 YYYY-MM-DD（含）")],
    scan: Annotated[Path, typer.Option("--scan", help="签字授权书的扫描件（PDF、JPEG、PNG）")],
    datasets: Annotated[
        str | None,
        typer.Option("--datasets", help="授权的数据集代码，逗号分隔（默认全部授权查询类信息）"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """登记一份签字的书面授权及其扫描件。"""
    start = _date(valid_from, "有效期起始日期", as_json)
    end = _date(valid_until, "有效期截止日期", as_json)
    try:
        with scan.open("rb") as f:
            # One byte past the cap is enough for the service to refuse an oversized file.
            data = f.read(service.MAX_SCAN_BYTES + 1)
    except OSError as exc:
        fail(XinyongError("FILE_UNREADABLE", f"无法读取扫描件：{exc}"), as_json=as_json)
    codes = [c.strip() for c in datasets.split(",") if c.strip()] if datasets else None
    principal = _principal()
    refused: XinyongError | None = None
    dept_name = dept
    with transaction(
        as_json=as_json,
        audit_as="authorisation.record",
        audit_detail={"subject": subject_code, "requester": dept},
    ) as conn:
        try:
            subject = find_subject(conn, subject_code)
            auth = service.record_paper(
                conn,
                principal,
                catalog=catalog(),
                settings=settings(),
                subject_id=subject["id"],
                dept_uscc=dept,
                purpose=purpose,
                valid_from=day_start(start),
                valid_until=day_start(end + timedelta(days=1)),
                scan=data,
                scan_name=scan.name,
                notify=inbox.tell_subject,
                datasets=codes,
            )
            dept_name = departments.get(conn, auth.dept_uscc).name
        except _REFUSED as exc:
            refused = exc
            _note_refusal(conn, principal, "authorisation.record", exc)
    if refused is not None:
        fail(refused, as_json=as_json, status=1)
    if as_json:
        _dump(auth.as_dict())
        return
    out.print(
        f"已登记书面授权 {auth.id}：{escape(subject['name'])} 授权"
        f"{escape(dept_name)} 查询（{escape(auth.purpose)}），"
        f"范围：{_scope(auth)}，有效期 {local_time(auth.valid_from)} 至 "
        f"{local_time(auth.valid_until)}；扫描件 SHA-256 {auth.scan_sha256}。"
        "待确认：须由另一名平台管理员核实后确认（xinyong authorisations confirm），"
        "或由信用主体本人在“我的信用”中确认，方可据以查询",
        highlight=False,
    )


@app.command("confirm")
def confirm_command(
    authorisation_id: Annotated[int, typer.Argument(help="授权编号")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """核实签字授权书后确认一份书面授权，确认后方可据以查询（登记人本人不能确认）。"""
    principal = _principal()
    refused: XinyongError | None = None
    with transaction(
        as_json=as_json,
        audit_as="authorisation.confirm",
        audit_detail={"authorisation_id": authorisation_id},
    ) as conn:
        try:
            auth = service.confirm(conn, principal, authorisation_id, notify=inbox.tell_subject)
        except _REFUSED as exc:
            refused = exc
            _note_refusal(conn, principal, "authorisation.confirm", exc)
    if refused is not None:
        fail(refused, as_json=as_json, status=1)
    if as_json:
        _dump(auth.as_dict())
        return
    out.print(f"授权 {auth.id} 已于 {local_time(auth.confirmed_at)} 确认生效", highlight=False)


@app.command("revoke")
def revoke_command(
    authorisation_id: Annotated[int, typer.Argument(help="授权编号")],
    reason: Annotated[str, typer.Option("--reason", help="撤销原因")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """撤销一份授权，立即生效；此前依该授权进行的查询仍有据可查。"""
    principal = _principal()
    refused: XinyongError | None = None
    with transaction(
        as_json=as_json,
        audit_as="authorisation.revoke",
        audit_detail={"authorisation_id": authorisation_id},
    ) as conn:
        try:
            auth = service.revoke(conn, principal, authorisation_id, reason)
        except _REFUSED as exc:
            refused = exc
            _note_refusal(conn, principal, "authorisation.revoke", exc)
    if refused is not None:
        fail(refused, as_json=as_json, status=1)
    if as_json:
        _dump(auth.as_dict())
        return
    out.print(
        f"授权 {auth.id} 已于 {local_time(auth.revoked_at)} 撤销（{escape(reason.strip())}）",
        highlight=False,
    )


@app.command("list")
def list_command(
    subject_code: Annotated[
        str | None, typer.Option("--subject", help="只列出该信用主体的授权（代码）")
    ] = None,
    dept: Annotated[
        str | None, typer.Option("--dept", help="只列出该查询单位的授权（统一社会信用代码）")
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="只列出当前有效的授权")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出查询授权（最新在前）。"""
    missing: NotFound | None = None
    found: list[service.Authorisation] = []
    names: dict[int, str] = {}
    dept_names: dict[str, str] = {}
    now = settings().clock.now()
    with transaction(as_json=as_json, rollback=True) as conn:
        try:
            subject_id = find_subject(conn, subject_code)["id"] if subject_code else None
            found = service.list_authorisations(
                conn,
                _principal(),
                subject_id=subject_id,
                dept_uscc=dept,
                active_at=now if active else None,
            )
            names = _subject_names(conn, {a.subject_id for a in found})
            dept_names = departments.names(conn)
        except NotFound as exc:
            missing = exc
    if missing is not None:
        fail(missing, as_json=as_json, status=1)
    if as_json:
        _dump([{**a.as_dict(), "subject_name": names.get(a.subject_id)} for a in found])
        return
    table = Table(title=f"查询授权（{len(found)} 份）")
    for col in ("编号", "信用主体", "查询单位", "用途", "范围", "有效期", "方式", "状态"):
        table.add_column(col)
    for a in found:
        state = a.state_at(now)
        if state == "已撤销":
            state = f"已撤销（{local_time(a.revoked_at)}）"
        table.add_row(
            str(a.id),
            escape(names.get(a.subject_id, str(a.subject_id))),
            escape(dept_names.get(a.dept_uscc, a.dept_uscc)),
            escape(a.purpose),
            _scope(a),
            f"{local_time(a.valid_from)} 至 {local_time(a.valid_until)}",
            service.CHANNEL_LABELS[a.channel],
            state,
        )
    out.print(table)
