"""What a delivered row says about its subject (信用主体), before it is linked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# 行政相对人类别 (双公示): the three subject categories
PERSON = "自然人"
INDIVIDUAL_BUSINESS = "个体工商户"
ORGANISATION = "法人及非法人组织"


@dataclass(slots=True)
class SubjectRef:
    """The subject a row is about, as far as the row tells."""

    category: str
    name: str
    name_norm: str
    uscc: str | None = None
    org_code: str | None = None
    reg_no: str | None = None
    id_number: str | None = None
    other_id: str | None = None
    former_names: tuple[str, ...] = ()
    status: str | None = None

    @property
    def key(self) -> str:
        """The subject part of a natural key.

        Organisations are keyed by their 组织机构代码 (positions 9–17 of the USCC), so a record
        first sent with the old code and later with the USCC is the same record.
        """
        if self.uscc:
            return "O:" + self.uscc[8:17]
        if self.org_code:
            return "O:" + self.org_code
        if self.reg_no:
            return "R:" + self.reg_no
        if self.id_number:
            return "I:" + self.id_number
        if self.other_id:
            return "X:" + self.other_id
        return "N:" + self.name_norm

    @property
    def has_code(self) -> bool:
        return bool(self.uscc or self.org_code or self.reg_no or self.id_number or self.other_id)

    def __reduce__(self) -> tuple[type[SubjectRef], tuple[Any, ...]]:
        # pickled with every spilled row (batches.problems.CheckedRow.__reduce__)
        return (
            SubjectRef,
            (
                self.category,
                self.name,
                self.name_norm,
                self.uscc,
                self.org_code,
                self.reg_no,
                self.id_number,
                self.other_id,
                self.former_names,
                self.status,
            ),
        )
