"""`xinyong db`: the schema of the database DATABASE_URL names."""

from __future__ import annotations

import typer

from xinyong.catalog.loader import load_catalog
from xinyong.cli.context import out, settings
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database

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
