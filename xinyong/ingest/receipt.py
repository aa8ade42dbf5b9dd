"""The batch receipt (回执) a department gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Receipt:
    """Counts and every problem of one delivery. ``rejects`` holds one entry per problem."""

    batch_id: int | None
    dataset: str
    received: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0
    rejected: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "dataset": self.dataset,
            "received": self.received,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "pending": self.pending,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "rejects": self.rejects,
        }
