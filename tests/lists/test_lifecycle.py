"""The lists lifecycle through real deliveries: entry with or without a prior notice, change,
exit reported by the department, exit by the department, automatic expiry, objection and
repair, and the list state on past dates."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fixtures.deliveries import HENGDA, XINYUAN, Company
from sqlalchemy import Connection, Engine, select

from lists.rows import NDRC, deliver, headers, list_row, record_by_doc
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.errors import Conflict, NotAllowed
from xinyong.lists import service
from xinyong.lists.models import list_entries, list_events, list_notices
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.records import states
from xinyong.records.models import records
from xinyong.settings import Settings
from xinyong.subjects.service import find_subject

CLERK = Principal(role=Role.CLERK, name="ndrc-clerk", dept_uscc=NDRC.uscc, source="test")
# 濮阳市交通运输局 designates no list kind
OTHER = Principal(role=Role.CLERK, name="traffic-clerk", dept_uscc="11410900PY0000073W")


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


def _yzsx(
    catalog: Catalog, company: Company = XINYUAN, doc: str = "濮发改信〔2026〕1号", **kw: str
) -> dict[str, str]:
    return list_row(headers(catalog, "YZSX"), company, doc, NDRC, **kw)  # type: ignore[arg-type]


def _warning_codes(receipt) -> set[str]:  # type: ignore[no-untyped-def]
    return {w["code"] for w in receipt.warnings}


def _notifications(conn: Connection) -> list[tuple[str, int]]:
    try:
        from xinyong.notifications.models import notification_events
    except ImportError:
        return []
    return [
        (r.kind, r.payload["record_id"])
        for r in conn.execute(select(notification_events).order_by(notification_events.c.id))
    ]


def test_entry_without_prior_notice_is_listed_with_a_warning(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    receipt = deliver(engine, catalog, tmp_path, "YZSX", [_yzsx(catalog)])
    assert receipt.new == 1
    assert "LIST_NO_PRIOR_NOTICE" in _warning_codes(receipt)
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    with engine.connect() as conn:
        entry = conn.execute(select(list_entries)).one()
        assert entry.record_id == rec["id"] and entry.status == "listed"
        assert entry.listed_on == date(2026, 3, 2) and entry.prior_notice_id is None
        kinds = [e.kind for e in conn.execute(select(list_events))]
        assert kinds == ["entered"]
        sent = _notifications(conn)
    if sent:  # the outbox is installed: the implementing departments were told
        assert sent == [("list.entered", rec["id"])]


def test_prior_notice_recorded_first_is_linked(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    # the subject exists already (an earlier delivery about it)
    deliver(engine, catalog, tmp_path, "YZSX", [_yzsx(catalog, HENGDA, "濮发改信〔2025〕9号")])
    # XINYUAN becomes known through a first listing; then a notice, then a second listing
    deliver(engine, catalog, tmp_path, "YZSX", [_yzsx(catalog)], name="a.csv")
    with engine.begin() as conn:
        subject = find_subject(conn, XINYUAN.uscc)
        notice = service.record_prior_notice(
            conn,
            catalog,
            measures,
            CLERK,
            dataset="YZSX",
            subject_id=subject["id"],
            basis="《河南省社会信用条例》第二十八条",
            reasons="拒不履行行政处罚决定",
            served_on=date(2026, 3, 10),
            doc_no="濮发改告〔2026〕3号",
        )
    assert "HN34-4" in notice["measures"] and notice["objection_until"] == date(2026, 3, 15)
    receipt = deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [_yzsx(catalog, doc="濮发改信〔2026〕2号", listed_on="2026-03-20")],
        name="b.csv",
    )
    assert "LIST_NO_PRIOR_NOTICE" not in _warning_codes(receipt)
    rec = record_by_doc(engine, "濮发改信〔2026〕2号")
    with engine.connect() as conn:
        entry = conn.execute(
            select(list_entries).where(list_entries.c.record_id == rec["id"])
        ).one()
        assert entry.prior_notice_id == notice["id"]
        assert (
            conn.execute(
                select(list_notices.c.record_id).where(list_notices.c.id == notice["id"])
            ).scalar()
            == rec["id"]
        )


def test_prior_notice_refused_to_a_department_that_does_not_designate(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    deliver(engine, catalog, tmp_path, "YZSX", [_yzsx(catalog)])
    with engine.begin() as conn:
        subject = find_subject(conn, XINYUAN.uscc)
        with pytest.raises(NotAllowed) as exc:
            service.record_prior_notice(
                conn,
                catalog,
                measures,
                OTHER,
                dataset="YZSX",
                subject_id=subject["id"],
                basis="x",
                reasons="y",
                served_on=date(2026, 3, 1),
            )
    assert exc.value.code == "LIST_NOT_DESIGNATOR"


def test_change_and_exit_through_deliveries_and_state_on_past_dates(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    deliver(engine, catalog, tmp_path, "YZSX", [_yzsx(catalog)], name="1.csv")
    deliver(
        engine, catalog, tmp_path, "YZSX", [_yzsx(catalog, valid_until="2029-03-01")], name="2.csv"
    )
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [
            _yzsx(
                catalog,
                valid_until="2029-03-01",
                exited_on="2026-06-30",
                exit_reason="已履行行政处罚决定并完成整改",
            )
        ],
        name="3.csv",
    )
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    assert rec["state"] == states.EXPIRED  # out of public view
    with engine.connect() as conn:
        entry = conn.execute(select(list_entries)).one()
        assert (entry.status, entry.exited_on, entry.exit_reason) == (
            "exited",
            date(2026, 6, 30),
            "source",
        )
        kinds = [e.kind for e in conn.execute(select(list_events).order_by(list_events.c.id))]
        assert kinds == ["entered", "changed", "changed", "exited"]
        exit_notice = conn.execute(select(list_notices).where(list_notices.c.kind == "exit")).one()
        assert exit_notice.basis == "已履行行政处罚决定并完成整改"
        assert XINYUAN.name in exit_notice.reasons
        sid = rec["subject_id"]
        assert service.list_state(conn, sid, date(2026, 3, 1)) == []
        on_list = service.list_state(conn, sid, date(2026, 5, 1))
        assert [(s.dataset, s.status) for s in on_list] == [("YZSX", "在列")]
        assert service.list_state(conn, sid, date(2026, 7, 1)) == []
        sent = [k for k, _ in _notifications(conn)]
    if sent:
        assert sent[0] == "list.entered" and sent[-1] == "list.exited"


def test_department_exits_an_entry_and_daily_expiry(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    deliver(
        engine,
        catalog,
        tmp_path,
        "YZSX",
        [
            _yzsx(catalog),
            _yzsx(
                catalog,
                HENGDA,
                "濮发改信〔2026〕5号",
                listed_on="2025-01-02",
                valid_until="2026-01-01",
            ),
        ],
    )
    first = record_by_doc(engine, "濮发改信〔2026〕1号")
    second = record_by_doc(engine, "濮发改信〔2026〕5号")
    with engine.begin() as conn:
        with pytest.raises(NotAllowed):
            service.exit_entry(
                conn,
                catalog,
                measures,
                OTHER,
                first["id"],
                reason=service.ExitReason.PERFORMED,
                on=date(2026, 11, 2),
                basis="已履行",
            )
        service.exit_entry(
            conn,
            catalog,
            measures,
            CLERK,
            first["id"],
            reason=service.ExitReason.PERFORMED,
            on=date(2026, 11, 2),
            basis="当事人已履行义务",
        )
    with engine.begin() as conn, pytest.raises(Conflict):
        service.exit_entry(
            conn,
            catalog,
            measures,
            CLERK,
            first["id"],
            reason=service.ExitReason.PERFORMED,
            on=date(2026, 11, 2),
            basis="again",
        )
    with engine.begin() as conn:
        assert service.expire_entries(conn, catalog, measures, date(2026, 11, 3)) == 1
        assert service.expire_entries(conn, catalog, measures, date(2026, 11, 4)) == 0
        ev = conn.execute(
            select(list_events).where(
                list_events.c.record_id == second["id"], list_events.c.kind == "expired"
            )
        ).one()
        assert ev.on_date == date(2026, 1, 2)
        assert service.list_state(conn, second["subject_id"], date(2025, 12, 31)) != []
        assert service.list_state(conn, second["subject_id"], date(2026, 1, 2)) == []
        st = {r.id: r.state for r in conn.execute(select(records.c.id, records.c.state))}
    assert st[first["id"]] == st[second["id"]] == states.EXPIRED


def test_objection_and_repair_states(
    engine: Engine, settings: Settings, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    deliver(engine, catalog, tmp_path, "YZSX", [_yzsx(catalog)])
    rec = record_by_doc(engine, "濮发改信〔2026〕1号")
    today = settings.clock.today()
    with engine.begin() as conn:
        service.mark_objection(conn, CLERK, rec["id"], open=True, reason="主体提出异议")
        state = service.list_state(conn, rec["subject_id"], today)
        assert [s.status for s in state] == ["异议处理中"]
        with pytest.raises(Conflict):
            service.mark_objection(conn, CLERK, rec["id"], open=True, reason="again")
        service.mark_objection(conn, CLERK, rec["id"], open=False, reason="异议不成立")
        assert [s.status for s in service.list_state(conn, rec["subject_id"], today)] == ["在列"]
        service.mark_repaired(conn, catalog, measures, CLERK, rec["id"], basis="信用修复申请已通过")
        assert service.list_state(conn, rec["subject_id"], today + timedelta(days=1)) == []
    assert record_by_doc(engine, "濮发改信〔2026〕1号")["state"] == states.REPAIRED
