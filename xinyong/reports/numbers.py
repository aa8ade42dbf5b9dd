"""Report numbers (报告编号) a person can read aloud from paper and type back.

A number is ``XY``, the Beijing date of issue as YYMMDD, 11 random characters and one check
character: 20 characters in the Crockford base-32 alphabet (digits and capitals without I, L, O
and U, so nothing reads as another), printed in groups of four: ``XY26 1207 K7M4 Q9TP 3HC5``.

- 55 random bits (``secrets``): a number cannot be guessed, and the verification page is rate
  limited, so that a number still works as proof of holding the report.
- The check character is Luhn mod 32 over the other 19: any one mistyped character, and any
  two neighbours swapped but one pair, is caught before the database is asked.
- Typing is forgiving: spaces, hyphens and lower case are ignored, and I/L read as 1, O as 0.
- Numbers of the first format (``XY`` + YYYYMMDD + 20 RFC 4648 base-32 characters, 30 in all)
  stay valid: reports already issued keep verifying.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from xinyong.clock import CHINA
from xinyong.errors import XinyongError

PREFIX = "XY"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
RANDOM_CHARS = 11
LENGTH = len(PREFIX) + 6 + RANDOM_CHARS + 1
GROUP = 4
NUMBER = re.compile(rf"^{PREFIX}\d{{6}}[{ALPHABET}]{{{RANDOM_CHARS + 1}}}$")
# the first format, still verified
OLD_NUMBER = re.compile(rf"^{PREFIX}\d{{8}}[A-Z2-7]{{20}}$")
# either format inside a file's bytes (a report's PDF names its number in its metadata)
IN_TEXT = re.compile(
    rb"(?<![A-Z0-9])(XY\d{8}[A-Z2-7]{20}|XY\d{6}[0-9A-HJKMNP-TV-Z]{12})(?![A-Z0-9])"
)
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def check_char(body: str) -> str:
    """Luhn mod 32 over ``body`` (characters of ``ALPHABET``)."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def new_number(now: datetime) -> str:
    body = PREFIX + f"{now.astimezone(CHINA):%y%m%d}"
    body += "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return body + check_char(body)


def grouped(number: str) -> str:
    """The number as printed and shown: groups of four (an old number unchanged)."""
    if not NUMBER.match(number):
        return number
    return " ".join(number[i : i + GROUP] for i in range(0, len(number), GROUP))


def normalise(value: str) -> str:
    """A number as typed, scanned or copied, in its stored form; anything else is refused
    before it reaches the database."""
    text = "".join(str(value).replace("-", " ").split()).upper()
    if OLD_NUMBER.match(text):
        return text
    if len(text) == LENGTH and text.startswith(PREFIX):
        text = PREFIX + text[len(PREFIX) :].translate(_CONFUSABLE)
        if NUMBER.match(text):
            if check_char(text[:-1]) != text[-1]:
                raise XinyongError(
                    "REPORT_NO_MISTYPED",
                    "报告编号有误：校验位不符，请逐字核对报告上的编号（数字 0 与字母 O、"
                    "数字 1 与字母 I 可视为相同）",
                )
            return text
    raise XinyongError(
        "REPORT_NO_INVALID",
        f"报告编号格式不正确：应为 {LENGTH} 位，以 {PREFIX} 开头，如 XY26 1207 K7M4 Q9TP 3HC5"
        "（空格和连字符可省略）",
    )


def found_in(data: bytes) -> str | None:
    """The report number a file names (its PDF metadata), if any."""
    for match in IN_TEXT.finditer(data):
        text = match.group(1).decode("ascii")
        try:
            return normalise(text)
        except XinyongError:
            continue
    return None
