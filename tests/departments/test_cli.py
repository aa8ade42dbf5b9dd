"""`xinyong departments …` and `xinyong db upgrade` through the real command line, on every test
database: changes are audit events and nothing is written into the catalogue directory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fixtures.cli import point_at, reset_cli
from fixtures.deliveries import SAMR
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from xinyong.audit.service import search
from xinyong.cli import app
from xinyong.departments import service
from xinyong.departments.models import departments
from xinyong.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NEW = "11410923PY000017XD"  # synthetic 南乐县 unit, valid on both check characters


def xinyong(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def flat(text: str) -> str:
    return "".join(text.split())


def tree_digest(root: Path) -> str:
    """One SHA-256 over every file's path and content under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _actions(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(e.action, e.outcome) for e in reversed(search(conn)) if "department" in e.action]


def test_departments_commands_are_audited_and_leave_the_catalogue_alone(
    cli: None, engine: Engine
) -> None:
    before = tree_digest(ROOT / "catalog")
    listed = xinyong("departments", "list")
    assert listed.exit_code == 0, listed.output
    for text in ("濮阳市市场监督管理局", SAMR.uscc, "410928 濮阳县", "SXBZX", "启用", "目录初始"):
        assert text in listed.output

    added = xinyong(
        "departments", "add", NEW, "南乐县市场监督管理局", "--datasets", "XZCF, XZXK，JYYC"
    )
    assert added.exit_code == 0, added.output
    assert "已登记报送部门" in added.output
    with engine.connect() as conn:
        dept = service.get(conn, NEW)
    # the division comes from positions 3-8 of the code when --division is not given
    assert (dept.division, dept.datasets) == ("410923", ("XZCF", "XZXK", "JYYC"))

    updated = xinyong("departments", "update", NEW, "--datasets", "XZCF", "--division", "410900")
    assert updated.exit_code == 0, updated.output
    disabled = xinyong("departments", "disable", NEW, "--reason", "机构改革")
    assert disabled.exit_code == 0 and "已停用报送部门" in disabled.output
    assert NEW not in xinyong("departments", "list", "--enabled-only").output
    assert "停用" in xinyong("departments", "list").output
    enabled = xinyong("departments", "enable", NEW)
    assert enabled.exit_code == 0 and "已启用报送部门" in enabled.output
    with engine.connect() as conn:
        dept = service.get(conn, NEW)
    assert (dept.division, dept.datasets, dept.enabled) == ("410900", ("XZCF",), True)

    assert _actions(engine) == [
        ("department.add", "ok"),
        ("department.update", "ok"),
        ("department.disable", "ok"),
        ("department.enable", "ok"),
    ]
    with engine.connect() as conn:
        assert all(e.actor.startswith("cli:") for e in search(conn))
    assert tree_digest(ROOT / "catalog") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "11410923PY000017XE", "某部门", "--datasets", "XZCF"], "无效"),
        (["add", "91110000600037341N", "某部门", "--datasets", "XZCF"], "校验码错误"),
        (["add", SAMR.uscc, "某部门", "--datasets", "XZCF"], "已登记"),
        (["add", NEW, "南乐县市场监督管理局", "--datasets", "XZCF,NOPE"], "目录中没有数据集“NOPE”"),
        (["add", NEW, "南乐县", "--datasets", "XZCF", "--division", "999999"], "行政区划"),
        (["update", NEW, "--name", "某部门"], "不在部门名录中"),
        (["enable", SAMR.uscc], "已是启用状态"),
    ],
)
def test_refusals_exit_2_in_chinese_and_are_audited(
    cli: None, engine: Engine, args: list[str], message: str
) -> None:
    with engine.connect() as conn:
        before = service.all_departments(conn)
    result = xinyong("departments", *args)
    assert result.exit_code == 2
    assert message in flat(result.output)
    assert "错误" in result.output and "Traceback" not in result.output
    with engine.connect() as conn:
        assert service.all_departments(conn) == before
    assert _actions(engine) == [(f"department.{args[0]}", "denied")]


def test_add_needs_datasets(cli: None) -> None:
    assert xinyong("departments", "add", NEW, "南乐县市场监督管理局").exit_code == 2


def test_db_upgrade_seeds_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, catalog_dir: Path
) -> None:
    # A copy of the catalogue, so that its digest shows the command wrote nothing into it.
    point_at(settings.model_copy(update={"catalog_dir": catalog_dir}), monkeypatch)
    reset_cli()
    try:
        before = tree_digest(catalog_dir)
        first = xinyong("db", "upgrade")
        assert first.exit_code == 0, first.output
        assert "补入" in first.output
        second = xinyong("db", "upgrade")
        assert second.exit_code == 0 and "补入" not in second.output
        listed = xinyong("departments", "list", "--enabled-only")
        assert listed.exit_code == 0 and SAMR.name in listed.output
        assert tree_digest(catalog_dir) == before
    finally:
        reset_cli()
    from xinyong.db import make_engine

    eng = make_engine(settings)
    try:
        with eng.connect() as conn:
            count = conn.execute(select(func.count()).select_from(departments)).scalar_one()
        assert count == len(_seed(catalog_dir))
    finally:
        eng.dispose()


def _seed(catalog_dir: Path) -> list[str]:
    from xinyong.catalog.loader import load_catalog

    return list(load_catalog(catalog_dir).seed_departments)
