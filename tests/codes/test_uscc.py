"""统一社会信用代码 (GB 32100) and 组织机构代码 (GB 11714) checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from xinyong.codes import (
    USCC_CHARSET,
    check_org_code,
    check_uscc,
    org_check_char,
    uscc_check_char,
)

# domain.md §1.5: valid on both checks.
PUBLISHED_VALID = [
    "91110000600037341L",
    "121200004013590816",
    "91110000710926094P",
    "91310115MA1K3BTP2B",
    "91340600MA2PBM9HXD",
    "9144030071526726XG",
    "91620105L015101280",
    "914112810713741814",
    "91371082775260043P",
    "92340602MA2PBMEM24",
    "91350100M000100Y43",
    "11420000MB15291767",
]

ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def naive_uscc_check(first17: str) -> str:
    """Straight from domain.md §1.3, to cross-check the base-34 shortcut."""
    total = sum(USCC_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_CHARSET[(31 - total % 31) % 31]


def naive_org_check(body8: str) -> str:
    """Straight from domain.md §1.4, to cross-check the base-13 shortcut."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(body8, weights, strict=True))
    c9 = 11 - total % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def make_uscc(first16: str) -> str:
    first17 = first16 + org_check_char(first16[8:16])
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize("code", PUBLISHED_VALID)
def test_published_codes_are_valid(code: str) -> None:
    result = check_uscc(code)
    assert result.ok, result.message
    assert result.kind == "uscc"
    assert result.error is None and result.message is None
    assert result.value == code
    assert result.facts["org_code"] == code[8:17]
    assert check_org_code(code[8:17]).ok


def test_weights_are_powers_of_three() -> None:
    assert [pow(3, i, 31) for i in range(17)] == [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ]  # fmt: skip


def test_a_in_position_1_is_legal_but_check_char_is_k() -> None:
    result = check_uscc("A1110000600037341L")
    assert not result.ok
    assert result.error == "USCC_CHECK"
    assert result.message == "校验码错误，第18位应为 K"
    assert check_uscc("A1110000600037341K").ok


def test_forbidden_letters() -> None:
    result = check_uscc("9111000060003IOZSV")
    assert result.error == "USCC_CHAR"
    assert result.message is not None
    assert "第14位" in result.message and "“I”" in result.message


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_each_forbidden_letter_is_named(letter: str) -> None:
    code = "9111000060003734" + letter + "L"
    result = check_uscc(code)
    assert result.error == "USCC_CHAR"
    assert result.message is not None
    assert "第17位" in result.message and f"“{letter}”" in result.message


def test_bad_checksum() -> None:
    result = check_uscc("91110000600037341N")
    assert result.error == "USCC_CHECK"
    assert result.message == "校验码错误，第18位应为 L"


def test_position_17_wrong_with_position_18_recomputed() -> None:
    first17 = "9111000060003734" + "2"  # correct org check char is 1
    code = first17 + uscc_check_char(first17)
    result = check_uscc(code)
    assert result.error == "USCC_ORG_CHECK"
    assert result.message == "第17位（组织机构代码校验码）应为 1"


def test_empty_and_length() -> None:
    assert check_uscc("").error == "USCC_EMPTY"
    assert check_uscc(" \u3000\t").error == "USCC_EMPTY"
    result = check_uscc("91110000600037341")
    assert result.error == "USCC_LENGTH"
    assert result.message == "统一社会信用代码应为18位，实际为17位"
    assert check_uscc("91110000600037341LL").error == "USCC_LENGTH"


def test_region_must_be_digits() -> None:
    result = check_uscc("91A10000600037341L")
    assert result.error == "USCC_REGION_DIGITS"
    assert result.message is not None and "第3位" in result.message


def test_order_charset_before_structure_and_checks() -> None:
    # Both a letter in 3-8 and a forbidden letter: the charset problem comes first.
    assert check_uscc("91A1000060003734IL").error == "USCC_CHAR"
    assert check_uscc("91-10000600037341L").error == "USCC_CHAR"


@pytest.mark.parametrize(
    "raw",
    [
        "９１１１００００６０００３７３４１Ｌ",
        "91110000600037341l",
        " 9111 0000\u3000600037341L\t",
        "\u00a091110000\u200b600037341L\n",
        "９１１１００００　６０００３７３４１ｌ",
    ],
)
def test_messy_input_normalises_to_valid(raw: str) -> None:
    result = check_uscc(raw)
    assert result.ok, result.message
    assert result.value == "91110000600037341L"


def test_facts_enterprise() -> None:
    facts = check_uscc("91110000600037341L").facts
    assert facts == {
        "org_code": "600037341",
        "authority": "工商",
        "org_type": "企业",
        "category": "法人及非法人组织",
        "database": "法人",
        "division": "110000",
        "division_name": "北京市",
    }


def test_facts_individual_business_and_government() -> None:
    assert check_uscc("92340602MA2PBMEM24").facts["category"] == "个体工商户"
    gov = check_uscc("11420000MB15291767").facts
    assert gov["database"] == "政务"
    assert gov["authority"] == "机构编制" and gov["org_type"] == "机关"
    assert gov["category"] == "法人及非法人组织"


def test_puyang_division_name() -> None:
    code = make_uscc("91410928" + "MA3X1234")
    result = check_uscc(code)
    assert result.ok
    assert result.facts["division_name"] == "河南省濮阳市濮阳县"
    assert result.warnings == ()


def test_unknown_pair_and_division_are_warnings() -> None:
    unknown_authority = check_uscc(make_uscc("B1410928" + "MA3X1234"))
    assert unknown_authority.ok
    assert any("“B”" in w for w in unknown_authority.warnings)
    unknown_type = check_uscc(make_uscc("94410928" + "MA3X1234"))
    assert unknown_type.ok and unknown_type.facts["authority"] == "工商"
    assert "org_type" not in unknown_type.facts
    assert len(unknown_type.warnings) == 1
    unknown_division = check_uscc(make_uscc("91999999" + "MA3X1234"))
    assert unknown_division.ok
    assert "division_name" not in unknown_division.facts
    assert any("999999" in w for w in unknown_division.warnings)


def test_central_bodies_get_no_division_warning() -> None:
    result = check_uscc(make_uscc("11100000" + "00001234"))
    assert result.ok and result.warnings == ()


def test_letters_n_and_y_in_position_1() -> None:
    assert check_uscc(make_uscc("N2410928" + "MA3X1234")).facts["authority"] == "农业"
    assert check_uscc(make_uscc("Y1410928" + "MA3X1234")).facts["authority"] == "其他"


def test_org_check_char_special_values() -> None:
    assert org_check_char("71526726") == "X"
    assert org_check_char("60003734") == "1"
    # Remainder 0 must give "0", not "11" (the go-gb bug).
    body = next(f"{n:08d}" for n in range(1000) if naive_org_check(f"{n:08d}") == "0")
    assert org_check_char(body) == "0"
    assert check_org_code(body + "0").ok


def test_check_char_helpers_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9111000060003734")
    with pytest.raises(ValueError):
        uscc_check_char("9111000060003734I")
    with pytest.raises(ValueError):
        org_check_char("6000373")
    with pytest.raises(ValueError):
        org_check_char("6000373a")


def test_org_code() -> None:
    for raw in ("60003734-1", "600037341", "６０００３７３４－１", "60003734—1", "71526726-x"):
        result = check_org_code(raw)
        assert result.ok, (raw, result.message)
        assert result.kind == "org_code"
        assert "-" not in result.value
    assert check_org_code("60003734-2").message == "校验码错误，第9位应为 1"
    assert check_org_code("60003734-2").error == "ORG_CHECK"
    assert check_org_code("").error == "ORG_EMPTY"
    assert check_org_code("6000373-41").error == "ORG_LENGTH"
    assert check_org_code("60003734").error == "ORG_LENGTH"
    assert check_org_code("6000373*1").error == "ORG_CHAR"
    assert check_org_code("60003734A").error == "ORG_CHAR"


# --- property-based -------------------------------------------------------------------------

charset_char = st.sampled_from(USCC_CHARSET)
digit = st.sampled_from("0123456789")


@st.composite
def valid_uscc(draw: st.DrawFn) -> str:
    head = draw(st.text(charset_char, min_size=2, max_size=2))
    region = draw(st.text(digit, min_size=6, max_size=6))
    body = draw(st.text(charset_char, min_size=8, max_size=8))
    return make_uscc(head + region + body)


@given(valid_uscc())
def test_generated_codes_are_valid(code: str) -> None:
    result = check_uscc(code)
    assert result.ok, (code, result.message)
    assert uscc_check_char(code[:17]) == naive_uscc_check(code[:17])
    assert org_check_char(code[8:16]) == naive_org_check(code[8:16])


@given(st.text(st.sampled_from(ORG_ALPHABET), min_size=8, max_size=8))
def test_org_check_matches_formula_on_full_alphabet(body: str) -> None:
    assert org_check_char(body) == naive_org_check(body)
    assert check_org_code(body + naive_org_check(body)).ok


@given(valid_uscc(), st.integers(0, 17), charset_char)
def test_any_single_substitution_is_detected(code: str, pos: int, new: str) -> None:
    if code[pos] == new:
        new = USCC_CHARSET[(USCC_CHARSET.index(new) + 1) % 31]
    changed = code[:pos] + new + code[pos + 1 :]
    assert not check_uscc(changed).ok


@given(
    st.text(digit, min_size=8, max_size=8),
    st.text(charset_char, min_size=8, max_size=8),
    charset_char,
    charset_char,
    st.booleans(),
)
def test_agrees_with_stdnum(first8: str, body: str, pos17: str, pos18: str, correct: bool) -> None:
    first17 = first8 + body + (org_check_char(body) if correct else pos17)
    code = first17 + (uscc_check_char(first17) if correct else pos18)
    ours = check_uscc(code)
    if ours.error == "USCC_ORG_CHECK":
        return  # stdnum does not check position 17
    assert ours.ok == stdnum_uscc.is_valid(code)
