"""The natural key (自然键) of a record: the values that name one decision, joined in the
dataset's key order (``Dataset.natural_key``), with the subject's key (``SubjectRef.key``) where
the subject item stands. Built by ``xinyong.ingest.rows`` and read by the records package.
"""

from __future__ import annotations

KEY_SEP = "\x1f"  # cannot occur in a cleaned cell value


def show_key(natural_key: str) -> str:
    """The key as a person reads it (in messages and receipts)."""
    return natural_key.replace(KEY_SEP, " / ")
