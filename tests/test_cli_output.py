"""What the command line prints for scripts: a table piped to another program prints whole (no
"…", no 80-column folding), and `--json` gives one JSON document where a script would want it
(the catalogue, the departments, a new account, the audit chain's check)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from xinyong.catalog.loader import load_catalog
from xinyong.cli import app
from xinyong.measures.catalog import load_measures, measures_dir

ROOT = Path(__file__).resolve().parents[1]


def _piped(*args: str) -> str:
    """The command in a child process whose standard output is a pipe, as `| grep` gives it,
    and no COLUMNS (a shell exports none by default)."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["XINYONG_CATALOG_DIR"] = str(ROOT / "catalog")
    done = subprocess.run(
        [sys.executable, "-c", "from xinyong.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_a_piped_table_prints_whole() -> None:
    cat = load_catalog(ROOT / "catalog")
    measures = load_measures(measures_dir(cat), cat)
    longest = max(measures.measures.values(), key=lambda m: len(m.basis_text()))
    printed = _piped("measures", "list")
    assert "…" not in printed
    line = next(x for x in printed.splitlines() if f" {longest.id} " in x)
    # the whole content and the whole legal basis on the measure's one line
    assert longest.content in line and longest.basis_text() in line


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _json(result: Result) -> object:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # one document, nothing else on standard output
    return json.loads(lines[0])


def test_catalog_as_json() -> None:
    found = _json(_run("catalog", "list", "--json"))
    assert isinstance(found, list)
    assert {"code": "XZCF", "name": "行政处罚信息"}.items() <= next(
        d for d in found if d["code"] == "XZCF"
    ).items()
    shown = _json(_run("catalog", "show", "XZCF", "--json"))
    assert isinstance(shown, dict)
    assert shown["code"] == "XZCF" and any(i["code"] == "CF_WSH" for i in shown["items"])


@pytest.mark.usefixtures("cli")
def test_departments_accounts_and_audit_as_json() -> None:
    departments = _json(_run("departments", "list", "--json"))
    assert isinstance(departments, list) and departments
    assert {"uscc", "name", "datasets", "enabled"} <= departments[0].keys()
    uscc = departments[0]["uscc"]
    changed = _json(_run("departments", "update", uscc, "--name", "濮阳市测试局", "--json"))
    assert changed == {**changed, "uscc": uscc, "name": "濮阳市测试局"}
    system = ("accounts", "create", "samr.system", "--role", "dept_system", "--dept", uscc)
    created = _run(*system, "--json")
    account = _json(created)
    assert isinstance(account, dict) and account["username"] == "samr.system"
    assert account["role"] == "dept_system" and isinstance(account["id"], int)
    # a refusal is JSON too, with its stable code
    again = _run(*system, "--json")
    assert again.exit_code == 2
    refusal = _json(again)
    assert isinstance(refusal, dict) and refusal["error"]["code"]
    checked = _json(_run("audit", "verify", "--json"))
    assert isinstance(checked, dict) and checked["ok"] is True and checked["checked"] >= 2
