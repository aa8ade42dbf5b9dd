"""Client addresses behind a reverse proxy (issue 11 item 3): X-Forwarded-For is honoured only
from the addresses in XINYONG_TRUSTED_PROXIES, read from the right, so per-address rate limits
and the audit log's source are the client's, and nobody else can choose their own bucket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures.web import csrf_of
from sqlalchemy import Engine, select

from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.settings import Settings
from xinyong.web.app import create_app

PROXY = ("10.0.0.7", 40000)
STRANGER = ("203.0.113.5", 40000)


@pytest.fixture
def proxied(web_settings: Settings, engine: Engine, catalog: Catalog) -> FastAPI:
    settings = web_settings.model_copy(
        update={"rate_limit_search_per_minute": 2, "trusted_proxies": "127.0.0.1, 10.0.0.0/8"}
    )
    return create_app(settings, engine=engine, catalog=catalog)


@pytest.fixture
def via_proxy(proxied: FastAPI) -> Iterator[TestClient]:
    with TestClient(proxied, raise_server_exceptions=False, client=PROXY) as c:
        yield c


@pytest.fixture
def direct(proxied: FastAPI) -> Iterator[TestClient]:
    with TestClient(proxied, raise_server_exceptions=False, client=STRANGER) as c:
        yield c


def _search(client: TestClient, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client.get("/api/v1/subjects", params={"q": "鑫源"}, headers=headers).status_code


def test_each_client_behind_the_proxy_has_its_own_limit(via_proxy: TestClient) -> None:
    assert [_search(via_proxy, "198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert _search(via_proxy, "198.51.100.2") == 200
    # what the client wrote itself sits left of what the proxy appended: ignored
    assert _search(via_proxy, "198.51.100.99, 198.51.100.1") == 429
    # a chain of trusted proxies is walked through to the first untrusted address
    assert _search(via_proxy, "198.51.100.1, 10.0.0.9") == 429
    # a malformed entry stops the walk at the last trusted hop (the proxy itself)
    assert _search(via_proxy, "not-an-address") == 200


def test_an_untrusted_sender_cannot_choose_its_bucket(direct: TestClient) -> None:
    codes = [_search(direct, f"198.51.100.{i}") for i in range(3)]
    assert codes == [200, 200, 429]


def test_the_audit_log_names_the_forwarded_client(via_proxy: TestClient, engine: Engine) -> None:
    token = csrf_of(via_proxy.get("/login", headers={"X-Forwarded-For": "198.51.100.23"}).text)
    via_proxy.post(
        "/login",
        data={"username": "nobody.here", "password": "wrong-password-1", "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.23"},
    )
    with engine.connect() as conn:
        source = conn.execute(
            select(audit_events.c.source).where(audit_events.c.action == "account.login")
        ).scalar_one()
    assert source == "198.51.100.23"
