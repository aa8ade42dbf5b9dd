"""`xinyong code check` command."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from xinyong.cli import codes
from xinyong.codes import id_check_char

root = typer.Typer()
root.add_typer(codes.app, name="code")
runner = CliRunner()


def test_valid_uscc() -> None:
    result = runner.invoke(root, ["code", "check", "91110000600037341L"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "统一社会信用代码" in out
    assert "600037341" in out
    assert "110000 北京市" in out
    assert "法人及非法人组织" in out
    assert "有效" in out and "无效" not in out


def test_id_number_with_normalising() -> None:
    result = runner.invoke(root, ["code", "check", "３６０４２６１９９１０１０１００７１"])
    assert result.exit_code == 0, result.output
    assert "居民身份证号码" in result.output
    assert "360426199101010071" in result.output
    assert "1991-01-01" in result.output and "男" in result.output


def test_invalid_value_fails_and_gives_reason() -> None:
    result = runner.invoke(root, ["code", "check", "91110000600037341L", "A1110000600037341L"])
    assert result.exit_code == 1
    assert "无效" in result.output
    assert "校验码错误，第18位应为 K" in result.output


def test_unknown_kind() -> None:
    result = runner.invoke(root, ["code", "check", "12345"])
    assert result.exit_code == 1
    assert "未知" in result.output


def test_warning_is_shown() -> None:
    body = "41999919900101001"  # synthetic: Henan, a county code no edition lists
    value = body + id_check_char(body)
    result = runner.invoke(root, ["code", "check", value])
    assert result.exit_code == 0
    assert "419999" in result.output and "提示" in result.output


def test_json_output() -> None:
    result = runner.invoke(
        root, ["code", "check", "--json", "360426910101007", "60003734-2", "310230001716146"]
    )
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [d["input"] for d in data] == ["360426910101007", "60003734-2", "310230001716146"]
    first = data[0]
    assert set(first) == {"input", "kind", "value", "ok", "error", "message", "warnings", "facts"}
    assert first["kind"] == "id_number" and first["ok"] is True
    assert first["value"] == "360426199101010071"
    assert first["facts"]["converted_from_15"] == "是"
    assert data[1]["error"] == "ORG_CHECK" and data[1]["ok"] is False
    assert data[2]["kind"] == "reg_no" and data[2]["ok"] is True


def test_json_all_valid_exit_zero() -> None:
    result = runner.invoke(root, ["code", "check", "--json", "91110000600037341L"])
    assert result.exit_code == 0
    assert json.loads(result.output)[0]["facts"]["org_code"] == "600037341"
