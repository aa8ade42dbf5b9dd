"""The `xinyong` command line: a thin layer over the services, in Chinese for its users.

Every command is named once, in :data:`COMMANDS`: the module under ``xinyong.cli`` that holds
it and the line ``xinyong --help`` shows for it. The whole application (``xinyong.cli.application``,
also ``from xinyong.cli import app``) mounts them all; the installed ``xinyong`` command
(:func:`main`) imports only the module of the command it runs, and for ``xinyong --help``
none, so that starting it does not cost the import of every service (issue 13, item 5).
``tests/test_cli_startup.py`` holds the two to the same commands and help lines.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

HELP = "信用平台（xinyong）：城市公共信用信息共享平台命令行"

# name -> (module under xinyong.cli, attribute: a typer.Typer or a command function, help line);
# commands first, then groups, as Typer lists them
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ingest": (
        "ingest",
        "ingest_command",
        "归集一个部门文件：逐行校验、关联主体、入库，并给出回执。",
    ),
    "assess": (
        "assess",
        "assess_command",
        "部门考核：按月计算各报送部门的双公示及时率、完整率、准确率、按期报送、反馈和办件及时率，\n"
        "加权排名并说明扣分原因。",
    ),
    "monitor": (
        "assess",
        "monitor_command",
        "数据监测：列出逾期未报送、报送量超出预期的部门和数据集（依目录中各数据集的 expected）。",
    ),
    "batches": ("ingest", "batches_command", "列出最近的归集批次。"),
    "subject": (
        "subjects",
        "subject_command",
        "查看一个信用主体：代码、名称（含曾用名）和按数据集分组的记录。找不到时退出码为 1。",
    ),
    "backup": (
        "backup",
        "backup_command",
        "备份 DATABASE_URL 所指数据库（SQLite 在线备份；PostgreSQL 用 pg_dump），写后即校验。",
    ),
    "restore": (
        "backup",
        "restore_command",
        "把备份恢复到 DATABASE_URL 所指的空数据库，并核对数量和审计链。",
    ),
    "daily": (
        "daily",
        "daily_command",
        "执行每日任务：公示期满的记录停止公示（归档保留）等；重复执行不会重复处理。",
    ),
    "serve": ("serve", "serve_command", "启动信用濮阳门户网站和 /api/v1 接口（按 Ctrl+C 停止）。"),
    "worker": (
        "serve",
        "worker_command",
        "运行报送入库进程：逐一处理网上报送排队的批次（配合 XINYONG_DELIVERY_WORKER=process，"
        "入库不再占用门户网站进程的计算时间）。",
    ),
    "check": (
        "check",
        "check_command",
        "批量核查（最多 100,000 个主体）：每个主体一行结果，并与上次同名核查比较变化。",
    ),
    "evaluate": (
        "evaluate",
        "evaluate_command",
        "信用评价：运行评价模型，查看主体的评价结果与说明、批次和监测。",
    ),
    "code": ("codes", "app", "代码校验：统一社会信用代码、组织机构代码、工商注册号、身份证号"),
    "db": ("db", "db_app", "数据库"),
    "batch": ("ingest", "batch_app", "归集批次"),
    "subjects": ("subjects", "subjects_app", "信用主体：待关联队列与人工关联"),
    "records": ("subjects", "records_app", "信用记录：查看、历史版本、撤销"),
    "sample": ("sample", "app", "合成样例数据（濮阳）"),
    "audit": ("audit", "app", "审计日志"),
    "accounts": ("accounts", "app", "账号与令牌"),
    "authorisations": ("authorisations", "app", "信用信息查询授权：登记书面授权、确认、撤销、查看"),
    "calendar": ("workdays", "app", "工作日历：法定节假日、调休上班日与工作日计算"),
    "measures": ("measures", "app", "联合奖惩措施清单与反馈统计"),
    "notify": ("notify", "app", "通知：推送地址、订阅与推送进程"),
    "report": (
        "report",
        "app",
        "公共信用信息报告：出具（xinyong report 代码 --output 文件.pdf）、核验、重新生成 PDF",
    ),
    "cases": ("cases", "app", "办件：异议、信用修复、失信举报的受理、查询与办理"),
    "lists": ("lists", "app", "名单办理：事前告知、提前移出、名单条目与名单历史"),
    "repair": ("repair", "app", "信用修复：修复资格查询、申请与决定"),
    "catalog": ("catalog", "app", "信用信息目录：查看数据集定义，生成报送模板"),
    "departments": (
        "departments",
        "app",
        "报送部门：查看、登记、修改、停用和启用可向平台报送数据的单位",
    ),
    "exchange": (
        "exchange",
        "app",
        "数据交换：向省平台推送数据包、读取回执、接收下发数据包并核实",
    ),
}


def command_object(name: str) -> Any:
    """The typer.Typer or command function of ``name``, its module imported now."""
    module, attribute, _ = COMMANDS[name]
    return getattr(import_module(f"xinyong.cli.{module}"), attribute)


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole application, built on first use
        from xinyong.cli.application import app

        return app
    raise AttributeError(f"module 'xinyong.cli' has no attribute {name!r}")


def main() -> None:
    import typer

    args = sys.argv[1:]
    name = args[0] if args else None
    if name in COMMANDS:
        # only this command's module: a Typer of the one command, invoked as `xinyong NAME`
        single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
        obj = command_object(name)
        if isinstance(obj, typer.Typer):
            single.add_typer(obj, name=name)
        else:
            single.command(name)(obj)
        command = typer.main.get_command(single)
        if isinstance(command, typer.core.TyperGroup):
            command.main(args=args, prog_name="xinyong")
        else:  # Typer hands back a lone command as itself, not as a group of one
            command.main(args=args[1:], prog_name=f"xinyong {name}")
    elif not args or args[0] == "--help":
        _help_only(args)
    else:  # options of the application itself (completion): the whole application
        from xinyong.cli.application import app

        app()


def _help_only(args: list[str]) -> None:
    """`xinyong` and `xinyong --help` from the table, without importing any command."""
    import typer

    listing = typer.core.TyperGroup(
        name="xinyong",
        help=HELP,
        no_args_is_help=True,
        commands={n: typer.core.TyperCommand(n, help=h) for n, (_, _, h) in COMMANDS.items()},
    )
    listing.main(args=args, prog_name="xinyong")
