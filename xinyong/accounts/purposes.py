"""查询事由: the purpose a government reader states before it is shown a subject's non-public
information (issue 11 item 5; Henan art. 40: the subject sees who looked and why).

A government reader (clerk, department system, operator, auditor) who states no purpose reads
a subject as the public does: nothing non-public is shown and nothing is audited. With a
purpose, it sees what its role opens and the read is one audit event carrying the purpose.

A purpose is text a person can read: format and control characters removed, compatibility
characters folded as subject names are (``xinyong.subjects.names.clean_name``), whitespace
collapsed; at least ``MIN_CHARS`` characters with a letter or ideograph among them, at most
``MAX_CHARS``. The common purposes are catalogue data (``catalog/portal/purposes.yaml``); the
choice 其他 alone says nothing and is refused: the purpose is then written out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xinyong import yamlio
from xinyong.accounts.authorisations import normalise_purpose
from xinyong.accounts.roles import Principal
from xinyong.errors import XinyongError

MIN_CHARS = 2
MAX_CHARS = 100
OTHER = "其他"

PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
REQUIRED_MESSAGE = (
    "查看信用主体的非公开信息（政务共享、授权查询）须说明查询事由（purpose），"
    "如：行政审批、日常监管"
)


@dataclass(frozen=True)
class PurposeChoices:
    """What the purpose form offers: the common purposes, then 其他 (written out)."""

    common: tuple[str, ...]
    other: str = OTHER


@lru_cache(maxsize=8)
def purpose_choices(catalog_root: Path) -> PurposeChoices:
    path = catalog_root / "portal" / "purposes.yaml"
    data = yamlio.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return PurposeChoices(
        common=tuple(str(p) for p in (data or {}).get("common", [])),
        other=str((data or {}).get("other", OTHER)),
    )


def purpose_required() -> XinyongError:
    return XinyongError(PURPOSE_REQUIRED, REQUIRED_MESSAGE)


def stated_purpose(text: str | None, other: str | None = None) -> str | None:
    """The purpose as it is kept (normalised), None when none was stated.

    ``other``: the words written beside the choice 其他 (the portal's form); they are the
    purpose when the choice is 其他 or empty. Raises ``PURPOSE_INVALID`` for a purpose that
    says nothing (too short, no letter, 其他 without words) or is too long."""
    chosen = normalise_purpose(text or "")
    written = normalise_purpose(other or "")
    if written and chosen in ("", OTHER):
        chosen = written
    if not chosen:
        return None
    if chosen == OTHER:
        raise XinyongError("PURPOSE_INVALID", "选择“其他”时须写明具体的查询事由")
    if len(chosen) > MAX_CHARS:
        raise XinyongError("PURPOSE_INVALID", f"查询事由过长：最多 {MAX_CHARS} 个字")
    if len(chosen) < MIN_CHARS or not any(c.isalpha() for c in chosen):
        raise XinyongError("PURPOSE_INVALID", "查询事由须写明具体用途，如：行政审批、日常监管")
    return chosen


def read_as(principal: Principal, purpose: str | None) -> tuple[Principal, str | None]:
    """Who a read of a subject is shown as, and the purpose it states (normalised).

    A government reader must state its purpose (查询事由) to be shown non-public information
    (issue 11 item 5): without one it reads as the public does, and nothing is audited; with
    one it reads as itself and the read is audited with the purpose. Other readers' purposes
    open nothing and are not kept. Raises ``PURPOSE_INVALID`` for a purpose that says nothing."""
    if not principal.is_government:
        return principal, None
    stated = stated_purpose(purpose)
    if stated is None:
        return Principal.public(principal.source), None
    return principal, stated
