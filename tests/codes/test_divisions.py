"""GB/T 2260 行政区划代码 lookups, current and historic."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources

from xinyong.codes import (
    check_id_number,
    division_full_name,
    division_history,
    division_in_use,
    division_known,
    division_name,
    id_check_char,
)


def test_current_names() -> None:
    assert division_name("410928") == "濮阳县"
    assert division_full_name("410928") == "河南省濮阳市濮阳县"
    assert division_name("410900") == "濮阳市"
    assert division_full_name("410900") == "河南省濮阳市"
    assert division_full_name("410000") == "河南省"
    assert division_full_name("110101") == "北京市东城区"
    assert division_full_name("419001") == "河南省济源市"


def test_renamed_code_by_year() -> None:
    assert division_name("410902", 1990) == "市区"
    assert division_full_name("410902", 1990) == "河南省濮阳市市区"
    assert division_name("410902") == "华龙区"
    assert division_name("410902", 2024) == "华龙区"
    assert division_name("410902", 2001) == "市区"
    assert division_name("410902", 2002) == "华龙区"


def test_one_year_slack() -> None:
    # 市区 is first listed in the 1985 table; a number issued in 1984 may carry it.
    assert division_name("410902", 1984) == "市区"
    # Before that, no name fits: fall back to the current one.
    assert division_name("410902", 1980) == "华龙区"


def test_abolished_codes_resolve() -> None:
    assert division_name("410911") == "郊区"
    assert division_full_name("410911") == "河南省濮阳市郊区"
    assert division_name("110103") == "崇文区"
    assert division_full_name("110103") == "北京市崇文区"
    assert division_name("412126") == "濮阳县"
    assert division_known("110103") and not division_in_use("110103")
    assert division_in_use("410928")


def test_reused_code_by_year() -> None:
    assert division_name("419001", 1988) == "义马市"
    assert division_name("419001") == "济源市"


def test_unknown_code() -> None:
    assert division_name("999999") is None
    assert division_full_name("999999", 2000) is None
    assert not division_known("999999")
    assert division_history("999999") == ()
    body = "99999919900101001"
    result = check_id_number(body + id_check_char(body), today=date(2025, 1, 1))
    assert result.error == "ID_REGION_INVALID"  # no province 99 in any edition


def test_history_periods() -> None:
    periods = division_history("410902")
    assert [(p.name, p.valid_from, p.valid_to) for p in periods] == [
        ("市区", 1985, 2002),
        ("华龙区", 2002, None),
    ]


def test_current_list_matches_history() -> None:
    data = resources.files("xinyong.codes").joinpath("data")
    rows = list(csv.DictReader(data.joinpath("divisions.csv").read_text("utf-8").splitlines()))
    assert len(rows) == 3212
    for row in rows:
        assert division_name(row["code"]) == row["name"], row
        assert division_in_use(row["code"])


def test_summary_codes_of_gb2260_editions_are_known() -> None:
    """市辖区 (xxxx01) and the municipalities' 市辖区/县 (xx0100, xx0200) of GB/T 2260."""
    assert division_full_name("410901") == "河南省濮阳市市辖区"
    assert division_full_name("130101") == "河北省石家庄市市辖区"
    assert division_full_name("110100") == "北京市市辖区"
    (county_set,) = division_history("110200")
    assert (county_set.name, county_set.valid_to) == ("县", 2015)  # 密云、延庆 became districts
    assert division_history("500200")[0].valid_from == 1997  # 重庆 a municipality from 1997
    # a real county-level city of the 1980s keeps its own reading
    assert division_full_name("132101", 1982) == "河北省邯郸地区邯郸市"
    body = "41090119800101001"  # synthetic, issued under 濮阳市市辖区
    result = check_id_number(body + id_check_char(body), today=date(2025, 1, 1))
    assert result.ok and result.warnings == ()
    assert result.facts["division_name"] == "河南省濮阳市市辖区"


def test_codes_of_the_earliest_and_1990s_tables_are_known() -> None:
    """Codes of the 民政部 yearly tables the history file lacks (data/divisions_mca_extra.csv):
    北京's counties as the 1980–81 tables code them, and the 1990s 9001–9099 codes of
    county-level cities directly under a province."""
    assert division_full_name("110201", 1981) == "北京市昌平县"
    (period,) = division_history("110201")
    assert (period.valid_from, period.valid_to, period.status) == (1980, 1982, "abolished")
    assert division_full_name("419008", 1992) == "河南省舞钢市"
    assert division_known("310210") and division_known("139002")
    for body in ("11020119650312001", "41900819920101002"):  # synthetic numbers
        result = check_id_number(body + id_check_char(body), today=date(2025, 1, 1))
        assert result.ok and result.warnings == (), body
    # a code no table has ever listed is still named as unknown
    body = "11029919650312001"
    result = check_id_number(body + id_check_char(body), today=date(2025, 1, 1))
    assert result.ok and result.warnings
