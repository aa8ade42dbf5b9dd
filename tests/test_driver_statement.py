"""``DriverStatement``: a Core statement run as driver SQL stores what Core stores."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Connection, bindparam, insert, select

from xinyong.checks.models import check_measures, checks
from xinyong.db import DriverStatement, result_processors

ROW = {
    "kind": "single",
    "dept_uscc": None,
    "actor": "t",
    "role": "clerk",
    "matter": "procurement",
    "case_ref": "案-1",
    "name": None,
    "subject_id": None,
    "rows": 1,
    "subjects": 1,
    "hits": 0,
    "previous_id": None,
    "checked_at": datetime(2026, 12, 7, 8, 9, 10, 123456, tzinfo=UTC),
    "checked_on": date(2026, 12, 7),
    "deadline": None,
    "deadline_provisional": True,
    "deadline_days": 5,
}


def test_same_rows_as_core(conn: Connection) -> None:
    run = DriverStatement(insert(checks).returning(checks.c.id), tuple(ROW))
    with conn.begin():
        core_id = conn.execute(insert(checks).returning(checks.c.id), ROW).scalar_one()
        ours_id = run.execute(conn, ROW).scalar_one()
        # JSON: None is stored as Core stores it (the JSON text null), a list as JSON
        measure = DriverStatement(
            insert(check_measures),
            ("check_id", "subject_id", "measure_id", "kind", "obligation", "because_of"),
        )
        for i, because in enumerate((None, [3, 1])):
            values = {
                "check_id": ours_id,
                "subject_id": 1,
                "measure_id": f"m{i}",
                "kind": "reward",
                "obligation": "may",
                "because_of": because,
            }
            conn.execute(insert(check_measures), values)
            measure.execute(conn, {**values, "measure_id": f"n{i}"})
    rows = {
        r.id: {k: v for k, v in r._mapping.items() if k != "id"}
        for r in conn.execute(select(checks).where(checks.c.id.in_([core_id, ours_id])))
    }
    assert rows[core_id] == rows[ours_id]
    stored = (
        conn.execute(select(check_measures.c.because_of).order_by(check_measures.c.id))
        .scalars()
        .all()
    )
    assert stored == [None, None, [3, 1], [3, 1]]
    assert not conn.execute(
        select(check_measures.c.id).where(check_measures.c.because_of.is_(None))
    ).all()  # the JSON null, not SQL NULL, both ways
    # read back through the driver, converted by the columns' types as Core converts them
    stmt = select(checks).where(checks.c.id == bindparam("id"))
    read = DriverStatement(stmt).execute(conn, {"id": ours_id}).fetchall()[0]
    procs = result_processors(conn.dialect, list(stmt.selected_columns))
    converted = [
        p(v) if p is not None and v is not None else v for p, v in zip(procs, read, strict=True)
    ]
    assert converted == list(conn.execute(stmt, {"id": ours_id}).one())
    conn.rollback()


def test_expanding_parameters_are_refused(conn: Connection) -> None:
    stmt = select(checks.c.id).where(checks.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        DriverStatement(stmt).execute(conn, {"ids": [1]})
