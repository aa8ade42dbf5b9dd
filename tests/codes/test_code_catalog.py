"""Registration offices outside GB/T 2260 and legally issued codes that fail their check, as
catalogue data (catalog/codes/). USCCs here are synthetic, built with the check functions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinyong.catalog.loader import load_catalog
from xinyong.codes import check_uscc, org_check_char, uscc_check_char
from xinyong.codes.catalog import CodeCatalog, code_catalog, load_code_catalog, use_code_catalog
from xinyong.codes.divisions import division_known
from xinyong.errors import CatalogError

ROOT = Path(__file__).resolve().parents[2]


def uscc(division: str, body: str = "MA45T8KQ") -> str:
    first17 = "91" + division + body + org_check_char(body)
    return first17 + uscc_check_char(first17)


@pytest.fixture(autouse=True)
def bundled_afterwards() -> Iterator[None]:
    yield
    use_code_catalog(load_code_catalog(ROOT / "catalog" / "codes"))


def test_a_development_zone_office_raises_no_warning() -> None:
    code = uscc("410972")  # 濮阳经济技术开发区: NBS code, in no edition of GB/T 2260
    assert not division_known("410972")
    result = check_uscc(code)
    assert result.ok and result.warnings == ()
    assert result.facts["division_name"] == "河南省濮阳市濮阳经济技术开发区"


def test_without_the_catalogue_it_warned() -> None:
    use_code_catalog(CodeCatalog())
    result = check_uscc(uscc("410972"))
    assert result.ok and any("410972" in w for w in result.warnings)


def test_every_shipped_office_is_outside_gb2260_and_named() -> None:
    offices = code_catalog().offices
    assert len(offices) >= 130
    assert not [c for c in offices if division_known(c)]
    assert offices["410171"].startswith("河南省郑州市")


def test_an_operator_extends_the_offices_and_lists_issued_exceptions(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", root)
    good = uscc("419999", "PY7D3K2N")
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # fails the check character
    assert check_uscc(bad).error == "USCC_CHECK"
    with (root / "codes" / "registration_offices.yaml").open("a", encoding="utf-8") as fh:
        fh.write(
            '  - {code: "419999", name: 某农场, province: 河南省, prefecture: ~, '
            "kind: 农垦, source: 测试}\n"
        )
    (root / "codes" / "issued_exceptions.yaml").write_text(
        f'codes:\n  - {{code: "{bad}", name: 某有限公司, authority: 某市市场监督管理局, '
        "notice: 《关于某代码的说明》（测试）}\n",
        encoding="utf-8",
    )
    load_catalog(root)
    assert check_uscc(good).warnings == ()
    accepted = check_uscc(bad)
    assert accepted.ok
    (warning,) = accepted.warnings
    assert "合法签发代码名单" in warning and "某市市场监督管理局" in warning


def test_a_malformed_entry_is_named(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", root)
    (root / "codes" / "issued_exceptions.yaml").write_text(
        'codes:\n  - {code: "91410900MA45T8KQ00"}\n', encoding="utf-8"
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(root)
    assert "issued_exceptions.yaml" in info.value.message and "name" in info.value.message
