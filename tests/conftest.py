"""Shared fixtures: a real database per test (SQLite always, PostgreSQL when
XINYONG_TEST_PG_URL is set), schema built through the Alembic migrations, and the bundled
catalogue. Time is an input: every test runs on its own clock started at ``TEST_START``
(whatever the machine's date), shared by the database, the web app and the command line."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.cli import point_at, reset_cli
from fixtures.clock import TEST_START
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine, create_engine, text

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.clock import Clock, StartedClock
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("XINYONG_TEST_PG_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

# Property tests check correctness, not speed: on a loaded shared CI machine one example can
# take longer than Hypothesis's 200 ms deadline and fail a correct test as "flaky".
hypothesis_settings.register_profile("xinyong", deadline=None)
hypothesis_settings.load_profile("xinyong")


def pytest_report_header() -> str:
    return f"databases: {', '.join(BACKENDS)}"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog")


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled catalogue, for tests that change it."""
    target = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", target)
    return target


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def clock() -> StartedClock:
    """The test's clock: starts at ``TEST_START`` and runs. A module that needs time to stand
    still overrides this fixture with a ``FixedClock``; a test moves it with ``advance``."""
    return StartedClock(TEST_START)


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Settings]:
    """Settings pointing at a fresh, migrated database of each backend, on the test's clock."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        yield Settings(database_url=url, catalog_dir=ROOT / "catalog", clock=clock)
        return
    assert PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield Settings(
            database_url=_pg_schema_url(PG_URL, schema), catalog_dir=ROOT / "catalog", clock=clock
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(settings: Settings, catalog: Catalog) -> Iterator[Engine]:
    """The migrated database with the catalogue's departments seeded, as `db upgrade` leaves it."""
    eng = make_engine(settings)
    upgrade_schema(eng)
    seed_database(eng, catalog)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection whose work is committed per ``with conn.begin()`` block of the test."""
    with engine.connect() as c:
        yield c


# -- the command line on the test database --------------------------------------------------------


@pytest.fixture
def cli(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line on the migrated test database of each backend."""
    point_at(settings, monkeypatch)
    reset_cli()
    yield
    reset_cli()


@pytest.fixture
def cli_on_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line on the test database of each backend, without migrating it first."""
    point_at(settings, monkeypatch)
    reset_cli()
    yield
    reset_cli()
