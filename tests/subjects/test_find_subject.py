"""Finding a subject by another document's number (护照, 港澳居民来往内地通行证 …): the number
exactly, never a pattern; what no document number can hold is simply not found (on PostgreSQL
a NUL in a query was a 500, found by the API fuzz test)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert

from xinyong.errors import NotFound
from xinyong.subjects.models import subjects
from xinyong.subjects.refs import PERSON
from xinyong.subjects.service import find_subject


def _passport_holder(engine: Engine) -> int:
    now = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(subjects)
                .values(
                    category=PERSON,
                    database="自然人",
                    name="示例外籍人员",  # synthetic
                    name_norm="示例外籍人员",
                    other_id="护照:E1234_5678",
                    created_at=now,
                    updated_at=now,
                )
                .returning(subjects.c.id)
            ).scalar_one()
        )


def test_a_document_number_finds_its_holder_exactly(engine: Engine) -> None:
    holder = _passport_holder(engine)
    with engine.connect() as conn:
        assert find_subject(conn, "E1234_5678")["id"] == holder
        for pattern in ("%", "_", "E1234%", "E1234_567_", "%5678", "\\"):
            with pytest.raises(NotFound):
                find_subject(conn, pattern)


@pytest.mark.parametrize("code", ["E12\x0034", "\x00", "E1234\u200b5678", "\x1b[0m"])
def test_what_no_document_number_holds_is_not_found(engine: Engine, code: str) -> None:
    _passport_holder(engine)
    with engine.connect() as conn, pytest.raises(NotFound):
        find_subject(conn, code)
