"""Report numbers a person reads aloud and types: 20 characters in groups of four, a check
character that catches any one mistyped character, forgiving input, old numbers still valid."""

from __future__ import annotations

from datetime import datetime

import pytest
from fixtures.clock import TEST_START

from xinyong.errors import XinyongError
from xinyong.reports import numbers


def test_a_new_number_has_the_date_groups_and_a_check_character() -> None:
    number = numbers.new_number(TEST_START)
    assert numbers.NUMBER.match(number) and len(number) == 20
    assert number.startswith("XY261207")  # the Beijing date of issue
    assert numbers.check_char(number[:-1]) == number[-1]
    assert numbers.grouped(number) == " ".join(number[i : i + 4] for i in range(0, 20, 4))
    assert numbers.new_number(TEST_START) != number  # random, not a counter


def test_every_single_mistyped_character_is_caught() -> None:
    number = numbers.new_number(TEST_START)
    for position in range(2, 20):
        for char in numbers.ALPHABET:
            if char == number[position]:
                continue
            typo = number[:position] + char + number[position + 1 :]
            with pytest.raises(XinyongError) as refused:
                numbers.normalise(typo)
            assert refused.value.code in ("REPORT_NO_MISTYPED", "REPORT_NO_INVALID")


def test_typing_is_forgiving() -> None:
    number = "XY261207" + "K7M4Q9TP3HC"
    number += numbers.check_char(number)
    assert numbers.normalise(numbers.grouped(number).lower()) == number
    assert numbers.normalise("-".join(numbers.grouped(number).split())) == number
    with_o = number.replace("0", "O")  # the date's zero typed as the letter
    assert numbers.normalise(with_o) == number


def test_numbers_of_the_first_format_stay_valid() -> None:
    old = "XY20261127" + "ABCDEFGHIJKLMNOPQRST"
    assert numbers.normalise(old.lower()) == old
    assert numbers.grouped(old) == old


@pytest.mark.parametrize("text", ["", "XY", "XY2612", "XY261207K7M4Q9TP3HC55", "' OR 1=1 --"])
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(XinyongError) as refused:
        numbers.normalise(text)
    assert refused.value.code == "REPORT_NO_INVALID"


def test_a_number_is_found_in_a_files_bytes() -> None:
    number = numbers.new_number(datetime(2027, 1, 5, 3, 0, tzinfo=TEST_START.tzinfo))
    assert numbers.found_in(b"%PDF-1.4 ... /Keywords (" + number.encode() + b") ...") == number
    old = "XY20261127" + "ABCDEFGHIJKLMNOPQRST"
    assert numbers.found_in(b"/Keywords (" + old.encode() + b")") == old
    assert numbers.found_in(b"%PDF-1.4 nothing here") is None
