"""The check (联合奖惩核查): before it grants a licence, awards a contract, pays a subsidy or
hands out an honour, a department asks about a subject for a business matter and is answered
with the hits (list entries and records) and the reward and punishment measures that apply.

Only department principals (clerk, department system) and operators may check; a department
sees only its own checks. What a hit shows is decided by the disclosure engine. Every check
that names a subject is stored with an id (feedback refers to it); a name returns candidates
only, never a guess, and stores nothing.

The bulk check answers up to 100,000 subjects set-based: subjects by code for the whole input
in key order (``rows_by_keys``), their records in one query per 2,000 subjects, the rules in
memory (once for all subjects without any record), the results written with bulk inserts;
and the difference from the department's previous bulk check of the same name (new hits, gone
hits, changed states).
"""

from __future__ import annotations

# The checks package in four modules: what a check is made of (facts), the single check, the
# bulk check and reading checks back (queries). The delivery layers import from here.
from xinyong.checks.bulk import BulkResult, BulkRow, run_bulk_check
from xinyong.checks.queries import get_check, list_checks
from xinyong.checks.single import CheckResult, run_check

__all__ = [
    "BulkResult",
    "BulkRow",
    "CheckResult",
    "get_check",
    "list_checks",
    "run_bulk_check",
    "run_check",
]
