"""The `xinyong` command line: a thin layer over the services, in Chinese for its users."""

from __future__ import annotations

import typer

from xinyong.catalog.loader import load_catalog
from xinyong.cli import (
    accounts,
    assess,
    audit,
    authorisations,
    backup,
    codes,
    ingest,
    notify,
    report,
    sample,
    subjects,
    workdays,
)
from xinyong.cli.context import out, settings
from xinyong.cli.daily import daily_command
from xinyong.cli.serve import serve_command
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database

app = typer.Typer(
    help="信用平台（xinyong）：城市公共信用信息共享平台命令行",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """建立或迁移 DATABASE_URL 所指数据库的表结构到最新版本，并补入目录中新增的报送部门。"""
    # not context.engine(): that one refuses a PostgreSQL database that is not up to date
    eng = make_engine(settings())
    try:
        upgrade_schema(eng)
        added = seed_database(eng, load_catalog(settings().catalog_dir))
    finally:
        eng.dispose()
    out.print("数据库表结构已是最新版本。")
    if added:
        out.print(
            f"已从目录的 departments.yaml 补入 {len(added)} 个报送部门："
            + "、".join(d.name for d in added),
            highlight=False,
        )


app.add_typer(codes.app, name="code")
app.add_typer(db_app, name="db")
app.command("ingest")(ingest.ingest_command)
app.command("assess")(assess.assess_command)
app.command("monitor")(assess.monitor_command)
app.command("batches")(ingest.batches_command)
app.add_typer(ingest.batch_app, name="batch")
app.command("subject")(subjects.subject_command)
app.add_typer(subjects.subjects_app, name="subjects")
app.add_typer(subjects.records_app, name="records")
app.add_typer(sample.app, name="sample")
app.add_typer(audit.app, name="audit")
app.add_typer(accounts.app, name="accounts")
app.add_typer(authorisations.app, name="authorisations")
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)
app.command("daily")(daily_command)
app.add_typer(workdays.app, name="calendar")
app.command("serve")(serve_command)


def _mount_measures() -> None:
    from xinyong.cli import check, measures

    app.add_typer(measures.app, name="measures")
    app.command("check")(check.check_command)


_mount_measures()
app.add_typer(notify.app, name="notify")
app.add_typer(report.app, name="report")


def _mount_cases() -> None:
    from xinyong.cli import cases, lists, repair

    app.add_typer(cases.app, name="cases")
    app.add_typer(lists.app, name="lists")
    app.add_typer(repair.app, name="repair")


_mount_cases()


def _mount_evaluation() -> None:
    from xinyong.cli import evaluate

    app.command("evaluate")(evaluate.evaluate_command)


_mount_evaluation()


def _mount_catalog() -> None:
    # The catalogue commands live in their own modules; mounted here so `xinyong --help`
    # lists everything in one place.
    from xinyong.cli import catalog, departments

    app.add_typer(catalog.app, name="catalog")
    app.add_typer(departments.app, name="departments")


_mount_catalog()


def main() -> None:
    app()
