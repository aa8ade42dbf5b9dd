"""The web application on the migrated test database of each backend, through Starlette's
test client (a real ASGI round trip; the browser tests use a real server and Chromium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures.site import chromium
from playwright.sync_api import Browser
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.settings import Settings
from xinyong.web.app import create_app


@pytest.fixture
def web_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("data"),
            "rate_limit_search_per_minute": 0,
            "rate_limit_list_per_minute": 0,
            "rate_limit_report_per_minute": 0,
            "rate_limit_complaint_per_minute": 0,
            "rate_limit_follow_per_minute": 0,
        }
    )


@pytest.fixture
def app(web_settings: Settings, engine: Engine, catalog: Catalog) -> FastAPI:
    return create_app(web_settings, engine=engine, catalog=catalog)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module (each test opens its own context)."""
    with chromium() as launched:
        yield launched
