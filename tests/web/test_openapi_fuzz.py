"""Schemathesis against the served OpenAPI: generated requests (valid and invalid) to every
public and token operation never get a 500, and every answer conforms to the schema's status
codes. Runs on the migrated SQLite database with a little data (PostgreSQL is covered by the
other web tests; fuzzing both would only double the time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fixtures.deliveries import XINYUAN, penalty, run, write_csv
from hypothesis import HealthCheck, given, settings

from xinyong.catalog.loader import load_catalog
from xinyong.db import make_engine, upgrade_schema
from xinyong.departments.service import seed_database
from xinyong.settings import Settings
from xinyong.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("fuzz")
    s = Settings(
        database_url=f"sqlite:///{folder / 'fuzz.db'}",
        catalog_dir=ROOT / "catalog",
        data_dir=folder / "data",
        rate_limit_search_per_minute=0,
        rate_limit_list_per_minute=0,
        rate_limit_report_per_minute=0,
    )
    engine = make_engine(s)
    upgrade_schema(engine)
    catalog = load_catalog(s.catalog_dir)
    seed_database(engine, catalog)  # as `xinyong db upgrade` leaves it
    run(engine, catalog, write_csv(folder / "p.csv", [penalty(XINYUAN)]))
    yield create_app(s, engine=engine, catalog=catalog)
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_app)


def test_api_never_fails_on_any_input(api_schema: schemathesis.BaseSchema) -> None:
    # Operation by operation with hypothesis directly: schemathesis' pytest plugin does not
    # work with this pytest.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code < 500, (case.path, case.query, response.text)
            if response.status_code >= 400:
                assert set(response.json()["error"]) >= {"code", "message"}

        call()
