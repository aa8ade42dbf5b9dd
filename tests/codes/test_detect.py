"""Kind detection (check_code) on mixed code columns."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.codes import (
    check_code,
    check_id_number,
    check_reg_no,
    check_uscc,
    id_check_char,
    org_check_char,
    regno_check_digit,
    uscc_check_char,
)

TODAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    ("raw", "kind", "ok", "error"),
    [
        ("91110000600037341L", "uscc", True, None),
        ("914112810713741814", "uscc", True, None),  # all digits, still a USCC
        ("A1110000600037341L", "uscc", False, "USCC_CHECK"),
        ("91110000600037341N", "uscc", False, "USCC_CHECK"),
        ("9111000060003IOZSV", "uscc", False, "USCC_CHAR"),
        ("360426199101010071", "id_number", True, None),
        ("44011320141005001x", "id_number", True, None),
        ("36042619910102009X", "id_number", False, "ID_CHECK"),
        ("360426199113010079", "id_number", False, "ID_BIRTH_DATE"),
        ("360426910101007", "id_number", True, None),
        ("310230001716146", "reg_no", True, None),
        ("310230001716145", "reg_no", False, "REGNO_CHECK"),
        ("60003734-1", "org_code", True, None),
        ("600037341", "org_code", True, None),
        ("600037342", "org_code", False, "ORG_CHECK"),
        ("", "unknown", False, "CODE_UNKNOWN"),
        ("12345", "unknown", False, "CODE_UNKNOWN"),
        ("91110000600037341", "unknown", False, "CODE_UNKNOWN"),
    ],
)
def test_detection(raw: str, kind: str, ok: bool, error: str | None) -> None:
    result = check_code(raw, today=TODAY)
    assert (result.kind, result.ok, result.error) == (kind, ok, error), result.message


def test_same_result_as_specific_checker() -> None:
    assert check_code("91110000600037341L", TODAY) == check_uscc("91110000600037341L")
    assert check_code("360426199101010071", today=TODAY) == check_id_number(
        "360426199101010071", today=TODAY
    )
    assert check_code("310230001716146", TODAY) == check_reg_no("310230001716146")


def test_18_digits_not_id_shaped_reports_uscc_error() -> None:
    # Starts with 9 (no address code does) and is not a valid USCC.
    assert check_code("911100006000373410", today=TODAY).kind == "uscc"
    # Positions 7-8 not a birth century.
    assert check_code("360426009101010071", today=TODAY).kind == "uscc"


def test_valid_both_ways_is_uscc_with_warning() -> None:
    # Positions 7-14 read as birth date 1990-01-01; vary the region and the last body digits
    # until the USCC check character happens to equal the ID check character.
    code = ""
    for region in range(4100, 4200):
        for seq in range(100):
            first16 = f"12{region}19900101{seq:02d}"
            first17 = first16 + org_check_char(first16[8:16])
            candidate = first17 + uscc_check_char(first17)
            if first17.isdigit() and id_check_char(first17) == candidate[17]:
                code = candidate
                break
        if code:
            break
    assert code, "no doubly valid code in the searched space"
    assert check_id_number(code, today=TODAY).ok
    result = check_code(code, today=TODAY)
    assert result.kind == "uscc" and result.ok
    assert any("居民身份证号码" in w for w in result.warnings)


def test_15_digit_id_with_unknown_region_is_reg_no() -> None:
    body = "41999991010100"
    number = body + regno_check_digit(body)
    assert check_id_number(number, today=TODAY).ok  # valid old ID, but unknown county
    result = check_code(number, today=TODAY)
    assert result.kind == "reg_no" and result.ok


def test_15_digit_ambiguous_is_id_with_warning() -> None:
    for seq in range(1000):
        number = f"410928900101{seq:03d}"
        if regno_check_digit(number[:14]) == number[14]:
            break
    result = check_code(number, today=TODAY)
    assert result.kind == "id_number" and result.ok
    assert any("工商注册号" in w for w in result.warnings)


def test_15_digit_bad_date_is_reg_no() -> None:
    body = "41090000001234"
    number = body + regno_check_digit(body)
    result = check_code(number, today=TODAY)
    assert result.kind == "reg_no" and result.ok


def test_15_digit_that_would_be_born_before_1920_is_reg_no_with_warning() -> None:
    # A 注册号 whose sequence starts 000104 also reads as an old ID "born 1900-01-04".
    body = "41090200010458"
    number = body + regno_check_digit(body)
    assert check_id_number(number, today=TODAY).ok
    result = check_code(number, today=TODAY)
    assert result.kind == "reg_no" and result.ok
    assert any("身份证" in w for w in result.warnings)
