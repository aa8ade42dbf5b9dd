"""What differs between the kinds of case (办件类型): their number prefix, outcomes and what
pauses their clock. The common machinery (queue, deadline, history) is in ``cases.service``.

Outcomes are closed sets: a case can only be closed with one of its kind's outcomes and a reason
(issue 12: "never closed without an outcome and a reason").
"""

from __future__ import annotations

from dataclasses import dataclass, field

OBJECTION = "objection"
REPAIR = "repair"
COMPLAINT = "complaint"
GRADE = "grade"  # an objection to an evaluation result (评价异议)

# Why a clock may stop (中止计时). Henan art. 41: time for inspection, testing or appraisal
# (检验、检测、鉴定) is not counted; waiting for material the subject must supply (补正材料) is
# not counted where the kind's rules say so.
INSPECTION = "inspection"
MATERIAL = "material"
PAUSE_CAUSES = {INSPECTION: "检验、检测、鉴定", MATERIAL: "等待补正材料"}


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    prefix: str  # of the case number
    outcomes: dict[str, str]  # code -> Chinese label
    # the outcome the filer chooses by withdrawing (撤回), if the kind allows it
    withdrawn: str | None = "withdrawn"
    # causes that stop the deadline (others are recorded but do not pause it)
    pausing: frozenset[str] = field(default_factory=lambda: frozenset({INSPECTION}))

    def outcome_label(self, outcome: str | None) -> str:
        return self.outcomes.get(outcome or "", outcome or "")


KINDS: dict[str, Kind] = {
    OBJECTION: Kind(
        OBJECTION,
        "异议",
        "YY",
        {
            "corrected": "予以更正",
            "partly_corrected": "部分更正",
            "upheld": "维持原信息",
            "withdrawn": "申请人撤回",
        },
    ),
    REPAIR: Kind(
        REPAIR,
        "信用修复",
        "XF",
        {"approved": "准予修复", "rejected": "不予修复", "withdrawn": "申请人撤回"},
        pausing=frozenset({INSPECTION, MATERIAL}),
    ),
    COMPLAINT: Kind(
        COMPLAINT,
        "失信举报",
        "JB",
        {
            "substantiated": "查证属实",
            "unsubstantiated": "查无实据",
            "referred": "移送有权机关",
            "withdrawn": "举报人撤回",
        },
    ),
    GRADE: Kind(
        GRADE,
        "评价异议",
        "PJ",
        {
            "rerun": "重新评价",
            "upheld": "维持评价结果",
            "withdrawn": "申请人撤回",
        },
    ),
}


def kind_of(code: str) -> Kind:
    from xinyong.errors import XinyongError

    try:
        return KINDS[code]
    except KeyError:
        raise XinyongError("CASE_KIND_UNKNOWN", f"没有“{code}”这种办件类型") from None
