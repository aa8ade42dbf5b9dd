"""`xinyong backup PATH` and `xinyong restore PATH`: the service in ``xinyong.backup``, printed
in Chinese; both are audit events (a backup is an export of everything)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from xinyong import backup as service
from xinyong.audit.service import append_independently
from xinyong.cli.context import actor, engine, err, fail, local_time, out, settings
from xinyong.errors import XinyongError
from xinyong.settings import Settings

COUNT_LABELS = {"records": "信用记录", "batches": "归集批次", "audit_events": "审计事件"}


def _call(action: Callable[[Settings, Path], service.BackupInfo], path: Path) -> service.BackupInfo:
    try:
        return action(settings(), path)
    except XinyongError as exc:
        fail(exc)
    except OSError as exc:
        fail(XinyongError("FILE_UNREADABLE", f"无法读写文件：{exc}"))


def _print(title: str, info: service.BackupInfo) -> None:
    out.print(title, highlight=False)
    out.print(f"  文件：{info.path}（{info.bytes} 字节）", highlight=False)
    out.print(f"  说明文件：{service.sidecar_path(info.path)}", highlight=False)
    out.print(
        f"  数据库：{info.dialect}" + (f"，模式 {info.schema}" if info.schema else ""),
        highlight=False,
    )
    out.print(f"  SHA-256：{info.sha256}", highlight=False)
    out.print(f"  备份时间：{local_time(info.created_at)}", highlight=False)
    counts = "，".join(f"{COUNT_LABELS[k]} {v} 条" for k, v in info.counts.items())
    out.print(f"  内容：{counts}", highlight=False)


def _audit(action: str, info: service.BackupInfo) -> None:
    try:
        append_independently(
            engine(),
            actor=actor(),
            role="operator",
            action=action,
            source=socket.gethostname(),
            detail={"path": str(info.path), "sha256": info.sha256, "counts": info.counts},
        )
    except Exception:  # the backup or restore itself has succeeded and must be reported
        err.print("（审计日志写入失败）")


def backup_command(
    path: Annotated[Path, typer.Argument(help="备份文件（不得已存在）；旁边另写 PATH.json 说明")],
) -> None:
    """备份 DATABASE_URL 所指数据库（SQLite 在线备份；PostgreSQL 用 pg_dump），写后即校验。"""
    info = _call(service.backup, path)
    _audit("backup.create", info)
    _print("备份完成并已校验。", info)


def restore_command(
    path: Annotated[Path, typer.Argument(help="xinyong backup 写出的备份文件（须有 PATH.json）")],
) -> None:
    """把备份恢复到 DATABASE_URL 所指的空数据库，并核对数量和审计链。"""
    info = _call(service.restore, path)
    _audit("backup.restore", info)
    _print("恢复完成：数量与备份一致，审计链完整。", info)
