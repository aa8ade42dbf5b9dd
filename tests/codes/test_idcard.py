"""居民身份证号码 (GB 11643-1999), 18 and old 15 digits."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.exceptions import ValidationError

from xinyong.codes import check_id_number, division_name, id15_to_18, id_check_char

TODAY = date(2025, 6, 1)
PUYANG = ["410902", "410922", "410923", "410926", "410927", "410928"]


def naive_check_char(body17: str) -> str:
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return "10X98765432"[total % 11]


@pytest.mark.parametrize(
    "number",
    ["360426199101010071", "44011320141005001X", "412723199010050012", "110102199101010078"],
)
def test_published_valid(number: str) -> None:
    result = check_id_number(number, today=TODAY)
    assert result.ok, result.message
    assert result.kind == "id_number"
    assert result.value == number


def test_published_invalid() -> None:
    result = check_id_number("36042619910102009X", today=TODAY)
    assert result.error == "ID_CHECK"
    assert result.message == "校验码错误，第18位应为 3"
    assert check_id_number("360426199113010079", today=TODAY).error == "ID_BIRTH_DATE"


def test_facts() -> None:
    result = check_id_number("360426199101010071", today=TODAY)
    assert result.facts == {
        "birth_date": "1991-01-01",
        "gender": "男",
        "division": "360426",
        "division_name": "江西省九江市德安县",
    }
    female = "41092819900101002"
    female += id_check_char(female)
    assert check_id_number(female, today=TODAY).facts["gender"] == "女"


def test_lower_case_x_and_full_width() -> None:
    result = check_id_number("44011320141005001x", today=TODAY)
    assert result.ok and result.value == "44011320141005001X"
    assert check_id_number("４４０１１３２０１４１００５００１ｘ", today=TODAY).ok


def test_15_to_18_example() -> None:
    assert id15_to_18("360426910101007") == "360426199101010071"
    result = check_id_number("360426910101007", today=TODAY)
    assert result.ok
    assert result.value == "360426199101010071"
    assert result.facts["converted_from_15"] == "是"
    assert result.facts["birth_date"] == "1991-01-01"
    assert result.facts["gender"] == "男"


def test_15_digit_errors() -> None:
    assert check_id_number("360426911301007", today=TODAY).error == "ID_BIRTH_DATE"
    assert check_id_number("36042691010100X", today=TODAY).error == "ID_CHAR"
    with pytest.raises(ValueError):
        id15_to_18("36042691010100")
    with pytest.raises(ValueError):
        id15_to_18("360426911301007")
    with pytest.raises(ValueError):
        id15_to_18("36042691010100X")


def test_errors_in_order() -> None:
    assert check_id_number("", today=TODAY).error == "ID_EMPTY"
    result = check_id_number("36042619910101007", today=TODAY)
    assert result.error == "ID_LENGTH"
    assert result.message is not None and "实际为17位" in result.message
    result = check_id_number("3604261991010100A1", today=TODAY)
    assert result.error == "ID_CHAR"
    assert result.message is not None and "第17位" in result.message
    assert check_id_number("36042619910101007A", today=TODAY).error == "ID_CHAR"
    # Bad date and bad check char: the date is reported.
    assert check_id_number("360426199102300071", today=TODAY).error == "ID_BIRTH_DATE"
    assert check_id_number("360426199002290071", today=TODAY).error == "ID_BIRTH_DATE"


def test_absurdly_old_birth_date() -> None:
    body = "36042600910101007"  # year 0091 is a calendar date but not a birth date
    result = check_id_number(body + id_check_char(body), today=TODAY)
    assert result.error == "ID_BIRTH_DATE"


def test_future_birth_date() -> None:
    body = "41092820250602001"
    number = body + id_check_char(body)
    result = check_id_number(number, today=TODAY)
    assert result.error == "ID_BIRTH_FUTURE"
    assert check_id_number(number, today=date(2025, 6, 2)).ok
    assert check_id_number(number, today=date(2030, 1, 1)).ok


def test_unknown_division_is_a_warning() -> None:
    assert division_name("419999") is None
    body = "41999919900101001"
    result = check_id_number(body + id_check_char(body), today=TODAY)
    assert result.ok
    assert "division_name" not in result.facts
    assert len(result.warnings) == 1 and "419999" in result.warnings[0]


@pytest.mark.parametrize("province", ["99", "88", "00", "20", "60"])
def test_a_province_in_no_edition_of_gb2260_is_rejected(province: str) -> None:
    for body in (f"{province}010219900101001", f"{province}0102900101001"):  # 18 and 15 digits
        number = body + id_check_char(body) if len(body) == 17 else body
        result = check_id_number(number, today=TODAY)
        assert not result.ok and result.error == "ID_REGION_INVALID", number
        assert province in (result.message or "")


def test_abolished_division_still_named() -> None:
    body = "41091119840101001"  # 郊区, abolished 1987
    result = check_id_number(body + id_check_char(body), today=TODAY)
    assert result.ok and result.warnings == ()
    assert result.facts["division_name"] == "河南省濮阳市郊区"


def test_non_ascii_digits_rejected() -> None:
    number = "36042619910101007\u0661"  # ARABIC-INDIC DIGIT ONE
    assert check_id_number(number, today=TODAY).error == "ID_CHAR"
    with pytest.raises(ValueError):
        id_check_char("3604261991010100\u0667")


# --- property-based -------------------------------------------------------------------------

births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
seqs = st.integers(0, 999)


@st.composite
def valid_id(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from(PUYANG)) + draw(births).strftime("%Y%m%d") + f"{draw(seqs):03d}"
    return body + id_check_char(body)


@given(valid_id())
def test_generated_ids_valid_and_agree_with_stdnum(number: str) -> None:
    assert id_check_char(number[:17]) == naive_check_char(number[:17])
    result = check_id_number(number, today=TODAY)
    assert result.ok, result.message
    assert result.facts["division_name"].startswith("河南省濮阳市")
    try:
        stdnum_ric.get_birth_place(number)
    except ValidationError:
        return  # stdnum does not know the code in that birth year
    assert stdnum_ric.is_valid(number)
    broken = number[:17] + ("0" if number[17] != "0" else "1")
    assert not check_id_number(broken, today=TODAY).ok
    assert not stdnum_ric.is_valid(broken)


@given(
    st.sampled_from(PUYANG),
    st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    seqs,
)
def test_15_to_18_round_trip(division: str, birth: date, seq: int) -> None:
    old = division + birth.strftime("%y%m%d") + f"{seq:03d}"
    new = id15_to_18(old)
    assert len(new) == 18
    assert new[:6] + new[8:17] == old
    assert check_id_number(new, today=TODAY).ok
    result = check_id_number(old, today=TODAY)
    assert result.ok and result.value == new
    assert result.facts["gender"] == check_id_number(new, today=TODAY).facts["gender"]
