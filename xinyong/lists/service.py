"""The lists lifecycle (名单管理): prior notice, entry, objection, repair, exit, expiry, and a
subject's list state on any past date.

Henan rules carried here (河南省社会信用条例): before listing, the designating department
serves a written prior notice with basis, reasons, measures and the right to object (art. 28);
validity, repair and exit are set by the designating department, and on exit an exit notice is
published through the original channel and every department stops the measures (art. 37).

Record states used (``records.states``): an exited entry's record becomes 期满停止公示 (period
over, obligations performed) or 已修复 (credit repair); an objection under way is 异议中 (shown
as 异议处理中) and returns to 公示中 when the objection is closed without a change.
"""

from __future__ import annotations

# The lists package in four modules: what every part shares (events), prior notices (notices),
# exits, objection and repair (exits), and the state at a date (history). The delivery layers,
# the checks and the tests import from here.
from xinyong.lists.events import (
    EVENT_LABELS,
    EXITED,
    LISTED,
    PRIOR_NOTICE_REQUIRED,
    EntryFacts,
    ExitReason,
    ListChange,
    add_events,
    list_datasets,
    notify,
    triggered_measures,
)
from xinyong.lists.exits import exit_entry, expire_entries, mark_objection, mark_repaired
from xinyong.lists.history import ListState, list_state
from xinyong.lists.notices import notice, prior_notice_warning, record_prior_notice

__all__ = [
    "EVENT_LABELS",
    "EXITED",
    "LISTED",
    "PRIOR_NOTICE_REQUIRED",
    "EntryFacts",
    "ExitReason",
    "ListChange",
    "ListState",
    "add_events",
    "exit_entry",
    "expire_entries",
    "list_datasets",
    "list_state",
    "mark_objection",
    "mark_repaired",
    "notice",
    "notify",
    "prior_notice_warning",
    "record_prior_notice",
    "triggered_measures",
]
