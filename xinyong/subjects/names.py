"""Normalisation of subject names (主体名称) for matching.

Departments write the same company name with full-width or half-width characters, Chinese or
ASCII brackets, and stray spaces. Matching compares the normalised form; the name as written is
kept for display.
"""

from __future__ import annotations

import unicodedata

# After NFKC, Chinese brackets （） have become ASCII (); these remaining variants are unified too.
_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"})


def normalize_name(name: str) -> str:
    """NFKC (full → half width), one bracket style, no whitespace at all, upper-case Latin."""
    s = unicodedata.normalize("NFKC", name).translate(_BRACKETS)
    return "".join(s.split()).upper()
