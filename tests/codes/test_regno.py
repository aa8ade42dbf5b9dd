"""15-digit 工商注册号 (GS 15-2006, ISO 7064 MOD 11,10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.codes import check_reg_no, regno_check_digit


def naive_check_digit(body14: str) -> str:
    """domain.md §1.6, written out step by step."""
    p = 10
    for ch in body14:
        s = (p + int(ch)) % 10
        if s == 0:
            s = 10
        p = (2 * s) % 11
    return str((11 - p) % 10)


@pytest.mark.parametrize(("body", "check"), [("31023000171614", "6"), ("11010800000001", "6")])
def test_published_vectors(body: str, check: str) -> None:
    assert regno_check_digit(body) == check
    result = check_reg_no(body + check)
    assert result.ok
    assert result.kind == "reg_no"
    assert result.value == body + check


def test_facts_and_normalising() -> None:
    result = check_reg_no(" ３１０２３０００１７１６１４６ ")
    assert result.ok and result.value == "310230001716146"
    assert result.facts["division"] == "310230"
    assert result.facts["division_name"].startswith("上海市")


def test_errors() -> None:
    assert check_reg_no("").error == "REGNO_EMPTY"
    result = check_reg_no("31023000171614")
    assert result.error == "REGNO_LENGTH"
    assert result.message == "工商注册号应为15位数字，实际为14位"
    result = check_reg_no("3102300017161A6")
    assert result.error == "REGNO_CHAR"
    assert result.message is not None and "第14位" in result.message
    result = check_reg_no("310230001716145")
    assert result.error == "REGNO_CHECK"
    assert result.message == "校验码错误，第15位应为 6"


def test_unknown_office_is_a_warning() -> None:
    body = "99999900000001"
    result = check_reg_no(body + regno_check_digit(body))
    assert result.ok
    assert result.warnings and "999999" in result.warnings[0]


def test_helper_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        regno_check_digit("3102300017161")
    with pytest.raises(ValueError):
        regno_check_digit("3102300017161x")


digits14 = st.text(st.sampled_from("0123456789"), min_size=14, max_size=14)


@given(digits14)
def test_generated_numbers_are_valid(body: str) -> None:
    assert regno_check_digit(body) == naive_check_digit(body)
    assert check_reg_no(body + regno_check_digit(body)).ok


@given(digits14, st.integers(0, 14), st.integers(1, 9))
def test_single_digit_errors_are_detected(body: str, pos: int, delta: int) -> None:
    number = body + regno_check_digit(body)
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert not check_reg_no(changed).ok
