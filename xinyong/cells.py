"""Cells of the spreadsheets and CSV files the platform writes, made safe for whoever opens them.

A value that came from outside (a subject's name, a department's cell, a typed username) is
written as text, and one that begins with a character a spreadsheet would read as the start of
a formula (= + - @, tab, carriage return, line feed, or their full-width forms) gets a leading
apostrophe:
``=HYPERLINK(…)`` stays the text it was instead of a live formula in another department's
Excel (OWASP "CSV injection"; issue 11, item 7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# A plain signed number ("-1", "+0.5") is no formula and stays as sent: a rejects file comes
# back to the department to be fixed and resent, cell for cell.
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def safe_text(value: object) -> str:
    """``value`` as text a spreadsheet shows as it is, never evaluates."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_LEADS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def plain_text(text: str) -> str:
    """The inverse of ``safe_text`` for a cell read back: a rejects file that a department fixes
    and resends must store what it first sent, not the apostrophe we put in front."""
    if text.startswith("'") and safe_text(text[1:]) == text:
        return text[1:]
    return text


def safe_row(values: Iterable[object]) -> list[str]:
    return [safe_text(v) for v in values]


def xlsx_text_row(sheet: Any, values: Iterable[object]) -> list[Any]:
    """A write-only openpyxl row whose every cell is a string cell (type ``s``) holding
    ``safe_text``: neither a formula nor a number Excel would reformat."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=safe_text(value))
        cell.data_type = "s"
        row.append(cell)
    return row
