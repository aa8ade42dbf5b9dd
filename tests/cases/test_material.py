"""Supplementary material (补正材料) on both databases: only after a request, only by the
subject that filed, the files under the evidence rules; the history records it and the clock
resumes where the kind's rules stopped it (credit repair), the deadline moved by the working
days it stood still; an objection's clock never stopped for material (Henan art. 41)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cases.test_repair import OLD, PNG, PROOF, SAMR_CLERK, _me, cal, clock, recs  # noqa: F401
from xinyong.cases import files as case_files
from xinyong.cases import material, objections, repair, service, states
from xinyong.cases.models import case_files as case_files_table
from xinyong.catalog.loader import Catalog
from xinyong.clock import FixedClock
from xinyong.errors import Conflict, NotAllowed, XinyongError
from xinyong.workdays.calendar import WorkCalendar

SCAN = [case_files.Upload("补充说明.png", PNG)]


def _refused(engine: Engine, call: Any) -> XinyongError:
    with engine.begin() as conn, pytest.raises(XinyongError) as err:
        call(conn)
    return err.value


def test_repair_material_resumes_the_clock(
    engine: Engine,
    catalog: Catalog,
    cal: WorkCalendar,  # noqa: F811
    recs: dict[str, Any],  # noqa: F811
    clock: FixedClock,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recs[OLD]
    me = _me(rec)
    data = tmp_path / "data"
    with engine.begin() as conn:
        found, _ = repair.apply(
            conn,
            me,
            catalog,
            cal,
            rec["id"],
            correction="已整改",
            signed_by="刘志强",
            uploads=PROOF,
            data_dir=data,
        )
    assert found.deadline == date(2026, 12, 16)

    def supply(conn: Any, who: Any = me, uploads: Any = SCAN) -> service.Case:
        return material.supply_material(
            conn, who, cal, found.case_no, uploads=uploads, note="补充缴款凭证", data_dir=data
        )

    # nothing was asked for yet
    err = _refused(engine, supply)
    assert isinstance(err, Conflict) and err.code == "CASE_NO_MATERIAL_REQUEST"
    with engine.begin() as conn:
        asked = service.request_material(conn, SAMR_CLERK, cal, found.case_no, "缴款凭证原件扫描件")
    assert asked.state == states.PAUSED and asked.pause_cause == "material"
    # Monday 7 → Thursday 10 December: three working days stand still
    clock.advance(timedelta(days=3))
    # the department cannot supply for the subject; a file that is not PDF/JPEG/PNG is refused
    err = _refused(engine, lambda c: supply(c, who=SAMR_CLERK))
    assert isinstance(err, NotAllowed) and err.code == "CASE_NOT_FILER"
    err = _refused(engine, lambda c: supply(c, uploads=[case_files.Upload("x.pdf", b"MZ\x90")]))
    assert err.code == "CASE_FILE_REFUSED"
    err = _refused(engine, lambda c: supply(c, uploads=[]))
    assert err.code == "CASE_FILE_REQUIRED"
    with engine.begin() as conn:
        files_before = len(conn.execute(select(case_files_table.c.id)).all())
        after = supply(conn)
        events = service.history(conn, found.id, internal=False)
        stored = conn.execute(
            select(case_files_table.c.event_id, case_files_table.c.uploaded_by)
        ).all()
    assert after.state == states.RECEIVED or after.state == states.HANDLING
    assert after.paused_days == 3 and after.deadline == date(2026, 12, 21)
    kinds = [e["kind"] for e in events]
    assert kinds[-2:] == ["material_received", "resumed"]
    assert len(stored) == files_before + 1
    received = next(e for e in events if e["kind"] == "material_received")
    assert (received["id"], "xinyuan") in [(r.event_id, r.uploaded_by) for r in stored]
    # the request is answered: a second delivery needs a new request
    err = _refused(engine, supply)
    assert err.code == "CASE_NO_MATERIAL_REQUEST"


def test_objection_material_does_not_move_the_clock(
    engine: Engine,
    cal: WorkCalendar,  # noqa: F811
    recs: dict[str, Any],  # noqa: F811
    clock: FixedClock,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recs[OLD]
    me = _me(rec)
    with engine.begin() as conn:
        found, _ = objections.file_objection(conn, me, cal, rec["id"], reason="金额有误")
        service.request_material(conn, SAMR_CLERK, cal, found.case_no, "原始票据")
    clock.advance(timedelta(days=1))
    with engine.begin() as conn:
        after = material.supply_material(
            conn, me, cal, found.case_no, uploads=SCAN, note=None, data_dir=tmp_path
        )
    assert after.state == found.state and after.deadline == found.deadline
    with engine.begin() as conn:
        closed = objections.withdraw(conn, me, found.case_no, "撤回")
    assert closed.state == states.CLOSED
    with engine.begin() as conn, pytest.raises(Conflict) as err:
        service.request_material(conn, SAMR_CLERK, cal, found.case_no, "x")
    assert err.value.code == "CASE_CLOSED"
