"""变更 of a list entry outside deliveries (issue 10 item 5), the notifications of every
lifecycle step, and the register's default validity (item 2)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fixtures.deliveries import HENGDA, XINYUAN, make_id
from sqlalchemy import Connection, Engine, select

from lists.rows import deliver, headers, list_row, record_by_doc
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_check
from xinyong.errors import NotFound, XinyongError
from xinyong.lists import desk, service
from xinyong.lists.change import EntryChange, Person, change_entry
from xinyong.lists.models import list_entries, list_entry_persons, list_events
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.notifications.models import notification_deliveries, notification_events
from xinyong.records.models import record_versions, records
from xinyong.sample.datasets import Dept
from xinyong.subjects.service import find_subject

HRSS = Dept("11410900PY000009XF", "濮阳市人力资源和社会保障局")
STATS = Dept("11410900PY000017X3", "濮阳市统计局")
CLERK = Principal(role=Role.CLERK, name="hrss-clerk", dept_uscc=HRSS.uscc, source="test")
STATS_CLERK = Principal(role=Role.CLERK, name="stat-clerk", dept_uscc=STATS.uscc, source="test")
CHECKER = Principal(role=Role.CLERK, name="env-clerk", dept_uscc="11410900PY00000577")
DOC = "濮人社信〔2026〕21号"
# synthetic, valid check character; not a real person's number
ZHAO_ID = make_id("410902", date(1980, 2, 3), 415)


@pytest.fixture
def measures(catalog: Catalog) -> Measures:
    return load_measures(measures_dir(catalog), catalog)


def _wage(catalog: Catalog, doc: str = DOC, **cells: str) -> dict[str, str]:
    return list_row(headers(catalog, "YZSX"), XINYUAN, doc, HRSS, MD_MDLB="WAGE", **cells)


def _sent(conn: Connection) -> list[tuple[str, frozenset[str]]]:
    """(kind, departments told) of every outbox event, in order."""
    out = []
    for ev in conn.execute(select(notification_events).order_by(notification_events.c.id)):
        depts = conn.execute(
            select(notification_deliveries.c.dept_uscc).where(
                notification_deliveries.c.event_id == ev.id
            )
        ).scalars()
        out.append((ev.kind, frozenset(depts)))
    return out


def test_change_corrects_the_entry_keeps_history_and_tells_the_departments(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    rows = [_wage(catalog, valid_until="2029-03-01")]
    first = deliver(engine, catalog, tmp_path, "YZSX", rows, dept=HRSS)
    assert first.new == 1, first.rejects
    rec = record_by_doc(engine, DOC)
    with engine.begin() as conn:
        changed = change_entry(
            conn,
            catalog,
            measures,
            CLERK,
            rec["id"],
            EntryChange(
                valid_until=date(2027, 12, 31),
                basis="《保障农民工工资支付条例》第四十八条",
                doc_no="濮人社信〔2026〕21号之一",
                persons=(("legal_rep", Person(XINYUAN.legal_rep, ZHAO_ID)),),
            ),
            reason="认定文书更正，有效期按更正决定书",
        )
    assert changed["MD_YXQZ"] == ["2029-03-01", "2027-12-31"]
    assert changed["MD_WSH"] == [DOC, "濮人社信〔2026〕21号之一"]
    with engine.connect() as conn:
        entry = conn.execute(select(list_entries)).one()
        assert entry.valid_until == date(2027, 12, 31)
        stored = conn.execute(select(records).where(records.c.id == rec["id"])).one()
        assert stored.version == 2 and stored.data["MD_WSH"] == "濮人社信〔2026〕21号之一"
        assert stored.publicity_max_end == date(2027, 12, 31)
        (old,) = conn.execute(select(record_versions)).all()
        assert old.data["MD_WSH"] == DOC and old.change.startswith("变更（hrss-clerk）")
        kinds = [e.kind for e in conn.execute(select(list_events).order_by(list_events.c.id))]
        assert kinds == ["entered", "changed"]
        person = conn.execute(select(list_entry_persons)).one()
        assert person.subject_id is not None and person.role == "legal_rep"
        sent = _sent(conn)
        audited = conn.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "list.change")
        ).scalar_one()
    assert [k for k, _ in sent] == ["list.entered", "list.changed"]
    assert sent[1][1] and sent[1][1] == sent[0][1]  # the departments implementing its measures
    assert audited["changed"]["MD_ZRR_ZJHM"] == "（已变更）"  # no ID number in the audit log
    # the person named by the change is found by a check, with the company and the list
    with engine.begin() as conn:
        res = run_check(
            conn, catalog, measures, CHECKER, subject_code=ZHAO_ID, matter="procurement"
        )
    assert res.hits[0]["responsible_for"]["organisation"] == XINYUAN.name
    assert "ST-WAGE-01" in {m["id"] for m in res.measures}
    # resending the department's original file neither undoes the change nor adds a record
    again = deliver(engine, catalog, tmp_path, "YZSX", rows, dept=HRSS, name="again.csv")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1), again.rejects
    assert record_by_doc(engine, "濮人社信〔2026〕21号之一")["version"] == 2


def test_change_is_refused_without_reason_to_others_and_when_nothing_changes(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    deliver(engine, catalog, tmp_path, "YZSX", [_wage(catalog)], dept=HRSS)
    rid = record_by_doc(engine, DOC)["id"]
    cases: list[tuple[Principal, EntryChange, str, str]] = [
        (CLERK, EntryChange(valid_until=date(2027, 1, 1)), " ", "REASON_REQUIRED"),
        (STATS_CLERK, EntryChange(valid_until=date(2027, 1, 1)), "更正", "LIST_ENTRY_NOT_FOUND"),
        (CLERK, EntryChange(), "更正", "LIST_CHANGE_EMPTY"),
        (CLERK, EntryChange(listed_on=date(2026, 3, 2)), "更正", "LIST_CHANGE_SAME"),
        (CLERK, EntryChange(valid_until=date(2026, 1, 1)), "更正", "LIST_DATE_ORDER"),
        (CLERK, EntryChange(listed_on=date(2027, 1, 1)), "更正", "LIST_DATE_FUTURE"),
        (
            CLERK,
            EntryChange(persons=(("legal_rep", Person("赵某", "410902198002031234")),)),
            "更正",
            "ID_NUMBER_INVALID",
        ),
    ]
    for principal, change, reason, code in cases:
        with engine.begin() as conn, pytest.raises((XinyongError, NotFound)) as exc:
            change_entry(conn, catalog, measures, principal, rid, change, reason=reason)
        assert exc.value.code == code, (code, exc.value.message)


def test_every_lifecycle_step_tells_the_implementing_departments(
    engine: Engine, catalog: Catalog, measures: Measures, tmp_path: Path
) -> None:
    """notice → list.noticed, listing → list.entered, change → list.changed, early exit and
    expiry → list.exited; each to the departments implementing the entry's measures."""
    deliver(engine, catalog, tmp_path, "YZSX", [_wage(catalog)], dept=HRSS)
    hs = headers(catalog, "YZSX")
    with engine.begin() as conn:
        hengda = find_subject(conn, XINYUAN.uscc)  # known subject for the notice
        service.record_prior_notice(
            conn,
            catalog,
            measures,
            CLERK,
            dataset="YZSX",
            subject_id=hengda["id"],
            basis="《保障农民工工资支付条例》第四十八条",
            reasons="拖欠农民工工资",
            served_on=date(2026, 11, 2),
            list_kind="WAGE",
        )
    second = list_row(
        hs, HENGDA, "濮人社信〔2026〕22号", HRSS, MD_MDLB="WAGE", valid_until="2026-11-30"
    )
    deliver(engine, catalog, tmp_path, "YZSX", [second], dept=HRSS, name="b.csv")
    first_id = record_by_doc(engine, DOC)["id"]
    second_id = record_by_doc(engine, "濮人社信〔2026〕22号")["id"]
    with engine.begin() as conn:
        change_entry(
            conn,
            catalog,
            measures,
            CLERK,
            first_id,
            EntryChange(facts="克扣农民工工资，数额较大"),
            reason="更正列入事由",
        )
        desk.exit_early(
            conn, catalog, measures, CLERK, first_id, reason="performed", basis="已清偿工资"
        )
        assert service.expire_entries(conn, catalog, measures, date(2026, 12, 7)) == 1
    with engine.connect() as conn:
        sent = _sent(conn)
        exited = conn.execute(
            select(list_entries.c.status).where(list_entries.c.record_id == second_id)
        ).scalar()
    assert exited == "exited"
    assert [k for k, _ in sent] == [
        "list.entered",
        "list.noticed",
        "list.entered",
        "list.changed",
        "list.exited",
        "list.exited",
    ]
    told = {d for _, ds in sent for d in ds}
    assert told and all(ds == sent[0][1] for _, ds in sent)


def test_register_validity_fills_a_missing_valid_until_with_a_warning(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """STAT: validity_years 1. Listed 2025-12-01 without 有效期至: valid up to 2026-11-30, so on
    the test's day (2026-12-07) it triggers nothing and is not public, even before daily."""
    hs = headers(catalog, "YZSX")
    stat = list_row(hs, HENGDA, "濮统信〔2025〕9号", STATS, MD_MDLB="STAT", listed_on="2025-12-01")
    given = list_row(
        hs,
        XINYUAN,
        "濮统信〔2025〕10号",
        STATS,
        MD_MDLB="STAT",
        listed_on="2025-12-01",
        valid_until="2027-06-30",
    )
    receipt = deliver(engine, catalog, tmp_path, "YZSX", [stat, given], dept=STATS)
    assert receipt.new == 2, receipt.rejects
    warned = [w for w in receipt.warnings if w["code"] == "LIST_VALIDITY_DEFAULTED"]
    assert [w["row"] for w in warned] == [2]
    assert "2026-11-30" in warned[0]["message"] and "统计严重失信企业" in warned[0]["message"]
    with engine.connect() as conn:
        until = dict(
            conn.execute(select(list_entries.c.record_id, list_entries.c.valid_until))
            .tuples()
            .all()
        )
        ends = dict(conn.execute(select(records.c.id, records.c.publicity_max_end)).tuples().all())
    defaulted = record_by_doc(engine, "濮统信〔2025〕9号")["id"]
    kept = record_by_doc(engine, "濮统信〔2025〕10号")["id"]
    assert until[defaulted] == date(2026, 11, 30) and until[kept] == date(2027, 6, 30)
    assert ends[defaulted] is not None and ends[defaulted] <= date(2026, 11, 30)
    measures = load_measures(measures_dir(catalog), catalog)
    with engine.begin() as conn:
        res = run_check(
            conn, catalog, measures, CHECKER, subject_code=HENGDA.uscc, matter="procurement"
        )
    assert res.hits == [] and not any(m["kind"] == "punishment" for m in res.measures)
