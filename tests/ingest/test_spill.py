"""A spilled checked row comes back whole (its own ``__reduce__`` names every field)."""

from __future__ import annotations

import pickle
from dataclasses import fields
from datetime import date

from xinyong.batches.problems import CheckedRow, Problem
from xinyong.subjects.refs import SubjectRef


def _ref() -> SubjectRef:
    return SubjectRef(
        category="法人及非法人组织",
        name="某某有限公司",
        name_norm="某某有限公司",
        uscc="91410100MA00000000",
        org_code="MA0000000",
        reg_no="410100000000000",
        id_number="410100199001010000",
        other_id="护照:E1",
        former_names=("旧名",),
        status="存续",
    )


def test_every_field_survives_the_spill() -> None:
    row = CheckedRow(
        row_no=7,
        raw=["a", "b"],
        data={"X": "1"},
        errors=[Problem("X", "1", "CODE", "错")],
        warnings=[Problem(None, None, "WARN", "提示")],
        subject=_ref(),
        natural_key="O:MA0000000|1",
        content_hash="ab" * 16,
        decision_date=date(2024, 5, 1),
        subject_id=3,
        raw_json='{"0":"a"}',
    )
    back = pickle.loads(pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == row
    # a field added later must be added to __reduce__ too: every field is set above
    for f in fields(CheckedRow):
        assert getattr(back, f.name) != f.default, f.name
    for f in fields(SubjectRef):
        assert getattr(back.subject, f.name) != f.default, f.name
