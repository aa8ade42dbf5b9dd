"""`xinyong report CODE --output FILE.pdf`, `xinyong report verify|render NO`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.deliveries import LI, XINYUAN
from sqlalchemy import Engine, update
from typer.testing import CliRunner, Result

from reports.data import Loaded
from xinyong.cli import app
from xinyong.reports.models import credit_reports

pytestmark = pytest.mark.usefixtures("cli")


def _run(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_issue_then_verify(loaded: Loaded, tmp_path: Path) -> None:
    output = tmp_path / "out" / "report.pdf"
    issued = _run("report", XINYUAN.uscc, "--output", output, "--json")
    assert issued.exit_code == 0, issued.output
    body = json.loads(issued.stdout)
    assert output.read_bytes().startswith(b"%PDF-")
    assert body["subject_id"] == loaded.company_id

    checked = _run("report", "verify", body["report_no"], "--json")
    assert checked.exit_code == 0, checked.output
    result = json.loads(checked.stdout)
    assert result["status"] == "genuine"
    assert result["content"]["subject"]["name"] == XINYUAN.name
    assert result["stored_sha256"] == body["sha256"]

    plain = _run("report", "verify", body["report_no"])
    assert plain.exit_code == 0 and "报告真实有效" in plain.stdout

    again = tmp_path / "again.pdf"
    rendered = _run("report", "render", body["report_no"], "--output", again)
    assert rendered.exit_code == 0, rendered.output
    assert again.read_bytes() == output.read_bytes()


def test_plain_issue_prints_the_number(loaded: Loaded, tmp_path: Path) -> None:
    result = _run("report", "issue", XINYUAN.uscc, "-o", tmp_path / "r.pdf")
    assert result.exit_code == 0, result.output
    assert "报告编号：XY" in result.stdout and "SHA-256" in result.stdout


def test_verify_an_altered_report_exits_1(loaded: Loaded, engine: Engine, tmp_path: Path) -> None:
    issued = json.loads(
        _run("report", XINYUAN.uscc, "--output", tmp_path / "r.pdf", "--json").stdout
    )
    with engine.begin() as conn:
        conn.execute(update(credit_reports).values(snapshot=credit_reports.c.snapshot + " "))
    result = _run("report", "verify", issued["report_no"])
    assert result.exit_code == 1
    assert "不一致" in result.stdout
    refused = _run("report", "render", issued["report_no"], "-o", tmp_path / "x.pdf", "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "REPORT_ALTERED"


def test_bad_numbers_and_codes(loaded: Loaded, tmp_path: Path) -> None:
    malformed = _run("report", "verify", "XY-not-a-number", "--json")
    assert malformed.exit_code == 2
    assert json.loads(malformed.stdout)["error"]["code"] == "REPORT_NO_INVALID"

    unknown = _run("report", "verify", "XY20261127" + "B" * 20, "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "REPORT_NOT_FOUND"

    no_subject = _run("report", "91410902MA9XKD2L0X", "-o", tmp_path / "n.pdf", "--json")
    assert no_subject.exit_code == 1
    assert json.loads(no_subject.stdout)["error"]["code"] == "SUBJECT_NOT_FOUND"
    assert not (tmp_path / "n.pdf").exists()

    person = _run("report", LI.id_number, "-o", tmp_path / "p.pdf", "--json")
    assert person.exit_code == 1
    assert json.loads(person.stdout)["error"]["code"] == "REPORT_PERSON_SELF_ONLY"
    assert not (tmp_path / "p.pdf").exists()
