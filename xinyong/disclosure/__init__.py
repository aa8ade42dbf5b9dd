"""The disclosure engine (信息披露规则): the one place that decides what a principal may see.

Every output (portal pages, the JSON API, credit reports, exports) asks this package for
subjects and records; nothing reads ``records`` for display on its own. See ``view`` for the
rules and ``publicity`` for the publicity periods.
"""

from xinyong.disclosure.view import (
    MAX_END_LABEL,
    MIN_END_LABEL,
    TABS,
    Access,
    ShownItem,
    ShownRecord,
    ShownSubject,
    access_to,
    count_visible,
    mask_id_number,
    present_subject,
    visible_records,
)

__all__ = [
    "MAX_END_LABEL",
    "MIN_END_LABEL",
    "TABS",
    "Access",
    "ShownItem",
    "ShownRecord",
    "ShownSubject",
    "access_to",
    "count_visible",
    "mask_id_number",
    "present_subject",
    "visible_records",
]
