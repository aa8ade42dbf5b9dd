"""Departments as operational data, on every test database: seeding from the catalogue, audited
changes by operators, and a disabled department's deliveries refused while its records stay."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fixtures.deliveries import ENV, SAMR, XINYUAN, make_uscc, penalty, run, write_csv
from fixtures.departments import OPERATOR, register
from sqlalchemy import Engine, func, select

from xinyong.accounts import service as accounts
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.audit.service import search, verify
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.clock import FixedClock
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments import service
from xinyong.departments.models import departments
from xinyong.errors import CatalogError, NotAllowed, XinyongError
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.records.models import records
from xinyong.settings import Settings

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
NEW = "11410923PY000017XD"  # synthetic 南乐县 unit, valid on both check characters
CLERK = Principal(Role.CLERK, "samr.wang", 1, SAMR.uscc, source="10.0.0.9")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def bare(settings: Settings, clock: FixedClock) -> Iterator[Engine]:
    """A migrated database on the fixed clock, not yet seeded."""
    eng = make_engine(settings.model_copy(update={"clock": clock}))
    upgrade_schema(eng)
    yield eng
    eng.dispose()


def _events(engine: Engine, prefix: str = "department.") -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [e.as_dict() for e in search(conn) if e.action.startswith(prefix)]


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(departments)).scalar_one())


# -- seeding -------------------------------------------------------------------------------------


def test_seed_stores_the_catalogue_once(bare: Engine, catalog: Catalog) -> None:
    assert _count(bare) == 0  # the migration itself stores nothing
    with bare.begin() as conn:
        added = service.seed(conn, catalog)
    assert [d.uscc for d in added] == list(catalog.seed_departments)
    with bare.connect() as conn:
        stored = service.all_departments(conn)
    assert list(stored) == list(catalog.seed_departments)  # the catalogue's order
    samr = stored[SAMR.uscc]
    seeded = catalog.seed_departments[SAMR.uscc]
    assert (samr.name, samr.division, samr.datasets) == (
        seeded.name,
        seeded.division,
        seeded.datasets,
    )
    assert samr.enabled and samr.origin == "catalog"
    assert samr.created_at == samr.updated_at == T0  # the injected clock, not the wall clock
    # Seeding again adds nothing and changes nothing.
    with bare.begin() as conn:
        assert service.seed(conn, catalog) == []
    with bare.connect() as conn:
        assert service.all_departments(conn) == stored


def test_seed_keeps_operators_changes_and_adds_new_catalogue_departments(
    bare: Engine, catalog: Catalog, clock: FixedClock, tmp_path: Path
) -> None:
    with bare.begin() as conn:
        service.seed(conn, catalog)
        clock.advance(timedelta(days=1))
        service.update_department(conn, catalog, OPERATOR, SAMR.uscc, name="濮阳市市场监管局")
        service.set_enabled(conn, OPERATOR, ENV.uscc, enabled=False, reason="机构改革")
    # A newer catalogue edits SAMR's name and adds a department.
    newer = tmp_path / "catalog"
    shutil.copytree(catalog.root, newer)
    path = newer / "departments.yaml"
    text = path.read_text(encoding="utf-8").replace(SAMR.name, "濮阳市市场监督管理局（新）")
    text += f'  - uscc: "{NEW}"\n    name: 南乐县市场监督管理局\n    division: "410923"\n'
    text += "    datasets: [XZCF]\n"
    path.write_text(text, encoding="utf-8")
    # the list register names its designating departments by name: they follow the rename
    for kind in (newer / "lists").glob("*.yaml"):
        body = kind.read_text(encoding="utf-8")
        kind.write_text(body.replace(SAMR.name, "濮阳市市场监督管理局（新）"), encoding="utf-8")
    clock.advance(timedelta(days=1))
    with bare.begin() as conn:
        added = service.seed(conn, load_catalog(newer))
    assert [d.uscc for d in added] == [NEW]
    with bare.connect() as conn:
        stored = service.all_departments(conn)
    assert stored[SAMR.uscc].name == "濮阳市市场监管局"  # the operator's name stays
    assert not stored[ENV.uscc].enabled  # and so does the disabling
    assert stored[NEW].created_at == T0 + timedelta(days=2) and stored[NEW].origin == "catalog"


# -- changes by operators ------------------------------------------------------------------------


def test_add_update_disable_enable_are_audit_events(
    bare: Engine, catalog: Catalog, clock: FixedClock
) -> None:
    with bare.begin() as conn:
        service.seed(conn, catalog)
        added = service.add(
            conn,
            catalog,
            OPERATOR,
            uscc=NEW.lower(),
            name=" 南乐县市场监督管理局 ",
            datasets=["xzcf", "行政许可信息", "XZCF"],
            division="410923",
        )
    assert (added.uscc, added.name, added.datasets, added.origin) == (
        NEW,
        "南乐县市场监督管理局",
        ("XZCF", "XZXK"),
        "operator",
    )
    clock.advance(timedelta(hours=1))
    with bare.begin() as conn:
        updated = service.update_department(conn, catalog, OPERATOR, NEW, datasets=["XZCF"])
    assert updated.datasets == ("XZCF",)
    assert updated.created_at == T0 and updated.updated_at == T0 + timedelta(hours=1)
    clock.advance(timedelta(hours=1))
    with bare.begin() as conn:
        disabled = service.set_enabled(conn, OPERATOR, NEW, enabled=False, reason="撤并")
        assert not disabled.enabled
        assert NEW not in service.all_departments(conn, enabled_only=True)
        assert service.set_enabled(conn, OPERATOR, NEW, enabled=True).enabled

    events = _events(bare)
    assert [e["action"] for e in events][::-1] == [
        "department.add",
        "department.update",
        "department.disable",
        "department.enable",
    ]
    add_event, update_event, disable_event = events[3], events[2], events[1]
    assert all(e["actor"] == OPERATOR.name and e["role"] == "operator" for e in events)
    assert all(e["dept_uscc"] == NEW for e in events)
    assert add_event["detail"]["datasets"] == ["XZCF", "XZXK"]  # type: ignore[index]
    assert update_event["detail"]["before"]["datasets"] == ["XZCF", "XZXK"]  # type: ignore[index]
    assert update_event["detail"]["after"]["datasets"] == ["XZCF"]  # type: ignore[index]
    assert disable_event["detail"]["reason"] == "撤并"  # type: ignore[index]
    with bare.connect() as conn:
        assert verify(conn).ok


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"uscc": "11410923PY000017XE"}, "DEPT_USCC_INVALID"),
        ({"uscc": "1141092"}, "DEPT_USCC_INVALID"),
        ({"uscc": SAMR.uscc}, "DEPT_EXISTS"),
        ({"name": ENV.name}, "DEPT_EXISTS"),
        ({"datasets": ["XZCF", "NOPE"]}, "DATASET_UNKNOWN"),
        ({"division": "4109"}, "DEPT_DIVISION_INVALID"),
        ({"division": "999999"}, "DEPT_DIVISION_INVALID"),
        ({"name": "  "}, "DEPT_NAME_EMPTY"),
    ],
)
def test_a_refused_addition_stores_nothing(
    engine: Engine, catalog: Catalog, fields: dict[str, object], code: str
) -> None:
    before = _count(engine)
    args: dict[str, object] = {
        "uscc": NEW,
        "name": "南乐县市场监督管理局",
        "datasets": ["XZCF"],
        "division": "410923",
    } | fields
    with pytest.raises(CatalogError) as info, engine.begin() as conn:
        service.add(conn, catalog, OPERATOR, **args)  # type: ignore[arg-type]
    assert info.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)  # a Chinese message
    assert _count(engine) == before and _events(engine) == []


def test_update_and_enable_refusals(engine: Engine, catalog: Catalog) -> None:
    cases = [
        (lambda c: service.update_department(c, catalog, OPERATOR, SAMR.uscc), "DEPT_NO_CHANGE"),
        (
            lambda c: service.update_department(c, catalog, OPERATOR, SAMR.uscc, name=ENV.name),
            "DEPT_EXISTS",
        ),
        (lambda c: service.set_enabled(c, OPERATOR, SAMR.uscc, enabled=True), "DEPT_NO_CHANGE"),
        (lambda c: service.set_enabled(c, OPERATOR, NEW, enabled=False), "DEPT_UNKNOWN"),
        (lambda c: service.set_enabled(c, CLERK, SAMR.uscc, enabled=False), "ROLE_NOT_ALLOWED"),
    ]
    for call, code in cases:
        with pytest.raises(XinyongError) as info, engine.begin() as conn:
            call(conn)
        assert info.value.code == code
    with engine.connect() as conn:
        assert service.get(conn, SAMR.uscc).enabled
    assert _events(engine) == []


def test_only_operators_register_departments(engine: Engine, catalog: Catalog) -> None:
    with pytest.raises(NotAllowed) as info, engine.begin() as conn:
        service.add(conn, catalog, CLERK, uscc=NEW, name="南乐县市场监督管理局", datasets=["XZCF"])
    assert info.value.code == "ROLE_NOT_ALLOWED"


# -- what a department's state means to the rest of the platform --------------------------------


def test_a_disabled_department_cannot_deliver_but_keeps_its_records(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "a.csv", [penalty(XINYUAN, "濮市监罚决字〔2023〕00201号")])
    assert run(engine, catalog, first).new == 1
    with engine.begin() as conn:
        service.set_enabled(conn, OPERATOR, SAMR.uscc, enabled=False, reason="测试")
    second = write_csv(tmp_path / "b.csv", [penalty(XINYUAN, "濮市监罚决字〔2023〕00202号")])
    with pytest.raises(NotAllowed) as info:
        run(engine, catalog, second)
    assert info.value.code == "DEPT_DISABLED"
    assert SAMR.name in info.value.message and "已停用" in info.value.message
    with engine.connect() as conn:
        kept = conn.execute(select(records.c.dept_uscc)).scalars().all()
    assert kept == [SAMR.uscc]  # its past record stays, still its own
    # Nor may an operator give it a new clerk; enabling it again restores delivery.
    with pytest.raises(NotAllowed) as refused, engine.begin() as conn:
        accounts.create_account(
            conn,
            catalog,
            username="samr.li",
            role=Role.CLERK,
            display_name="李",
            dept_uscc=SAMR.uscc,
            created_by=OPERATOR.name,
            by=OPERATOR,
        )
    assert refused.value.code == "DEPT_DISABLED"
    with engine.begin() as conn:
        service.set_enabled(conn, OPERATOR, SAMR.uscc, enabled=True)
    assert run(engine, catalog, second).new == 1


def test_a_registered_department_may_deliver_what_it_was_given(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    district = make_uscc("11", "410902", "PY00170D")
    register(engine, catalog, district, "濮阳市华龙区生态环境分局", ["XZXK"], "410902")
    from xinyong.sample.datasets import Dept

    dept = Dept(district, "濮阳市华龙区生态环境分局")
    row = penalty(XINYUAN, "濮华环罚〔2023〕1号", dept=dept)
    with pytest.raises(XinyongError) as info:
        run(engine, catalog, write_csv(tmp_path / "a.csv", [row]), dept=dept)
    assert info.value.code == "DEPT_DATASET_NOT_ALLOWED"
    with engine.begin() as conn:
        service.update_department(conn, catalog, OPERATOR, district, datasets=["XZXK", "XZCF"])
    assert run(engine, catalog, write_csv(tmp_path / "b.csv", [row]), dept=dept).new == 1


def test_measures_reach_departments_registered_at_run_time(
    engine: Engine, catalog: Catalog
) -> None:
    measures = load_measures(measures_dir(catalog), catalog)
    licensing = measures.measure("HN32-1")  # 行政许可机关: every department submitting XZXK
    register(engine, catalog, NEW, "南乐县市场监督管理局", ["XZXK"], "410923")
    with engine.connect() as conn:
        assert NEW in measures.depts_of(licensing, service.all_departments(conn))


def test_seeding_appends_no_audit_event(engine: Engine) -> None:
    # The seed comes from the versioned catalogue; only operators' acts are events.
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == 0
