"""Normalisation of subject names (主体名称) for storing and matching.

Departments write the same company name with full-width or half-width characters, Chinese or
ASCII brackets, and stray spaces. Matching compares the normalised form; the name as written is
kept for display, once cleaned (``clean_name``): invisible format characters (zero-width
spaces and joiners, bidi overrides, soft hyphens: Unicode category Cf) and control characters
are removed and compatibility characters NFKC-normalised, so that a name cannot hide from
search and checks behind characters nobody sees (issue 11, item 7).
"""

from __future__ import annotations

import unicodedata

# After NFKC, Chinese brackets （） have become ASCII (); these remaining variants are unified too.
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"})
_INVISIBLE = ("Cf", "Cc")


def _visible(name: str) -> str:
    return "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)


def _is_width_form(c: str) -> bool:
    return "\uff00" <= c <= "\uffef" or c == "\u3000"


def clean_name(name: str) -> tuple[str, bool]:
    """The name as stored, and whether it differs from the name as written.

    Format and control characters are removed and every other character is NFKC-normalised,
    except full-width forms (（有限合伙）, ＡＢＣ) and the ideographic space: they are how
    Chinese names are written, matching folds them anyway (``normalize_name``), and keeping them
    leaves every ordinary name byte for byte as sent (a resent file stays "unchanged"). What
    changes (a zero-width space, a bidi override, a compatibility ideograph or a ligature) is
    worth a warning on the receipt.
    """
    visible = _visible(name)
    folded = "".join(c if _is_width_form(c) else unicodedata.normalize("NFKC", c) for c in visible)
    cleaned = unicodedata.normalize("NFC", folded)
    return cleaned, cleaned != name


def normalize_name(name: str) -> str:
    """NFKC (full → half width), no format characters, one bracket style, no whitespace at
    all, upper-case Latin."""
    s = unicodedata.normalize("NFKC", _visible(name)).translate(_BRACKETS)
    return "".join(s.split()).upper()
