"""What the application refuses: forged forms, fixed sessions, path tricks, injection through
every search and filter, production with default secrets; and what it never writes to logs."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import PASSWORD, bearer, csrf_of, login, make_account, make_token
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.errors import XinyongError
from xinyong.records.models import records
from xinyong.settings import Settings
from xinyong.web.app import create_app
from xinyong.web.deps import SESSION_COOKIE

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE records; --",
    '" OR 1=1 --',
    "%' UNION SELECT id_number FROM subjects --",
    "鑫源\\' OR 1=1",
    "NEAR(a b) * - ^ :",
    "<script>alert(1)</script>",
    "a" * 5000,
]

SEARCHES = [
    "/api/v1/subjects?q={}",
    "/api/v1/publicity/xzcf?type={}",
    "/api/v1/publicity/xzcf?dept={}",
    "/api/v1/lists/black?dept={}",
    "/api/v1/subjects/1/records?dataset={}",
    "/api/v1/subjects/1/records?tab={}",
]


def _seed(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    run(engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN)]))


def test_production_refuses_default_or_short_secrets(settings: Settings) -> None:
    for secret in (Settings().secret_key, "short"):
        with pytest.raises(XinyongError) as refused:
            create_app(settings.model_copy(update={"env": "production", "secret_key": secret}))
        assert refused.value.code == "SECRET_KEY_DEFAULT"


def test_injection_through_every_search_and_filter(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _seed(engine, catalog, tmp_path)
    for template in SEARCHES:
        for attack in INJECTIONS:
            response = client.get(template.format(attack))
            assert response.status_code in (200, 400, 404, 422), (template, attack, response.text)
            assert response.headers["content-type"].startswith("application/json")
            if response.status_code != 200:
                assert set(response.json()["error"]) >= {"code", "message"}
            assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar_one() == 1


def test_audit_filters_are_not_injectable(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)
    login(client, "auditor.one")
    for attack in INJECTIONS[:6]:
        for name in ("actor", "action", "role", "outcome", "subject", "since", "before"):
            response = client.get("/audit", params={name: attack})
            # a code that names no subject is "not found"; any other bad filter a 400
            assert response.status_code in (200, 400, 404), (name, attack, response.status_code)
            assert "Traceback" not in response.text


def test_forged_forms_are_refused(client: TestClient, engine: Engine, catalog: Catalog) -> None:
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    # a login form posted without the page's token (another site's form) does not log in
    response = client.post(
        "/login",
        data={"username": "samr.clerk", "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and SESSION_COOKIE not in response.cookies
    login(client, "samr.clerk")
    # logging out needs the session's token too
    assert client.post("/logout", data={"csrf_token": "x"}).status_code == 403
    assert client.get("/dept").status_code == 200


def _login(client: TestClient, cookies: dict[str, str]) -> str:
    """Log in with exactly these cookies; the new session id the server sets."""
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "samr.clerk", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session = response.cookies.get(SESSION_COOKIE)
    assert session
    return session


def _dept_status(client: TestClient, session: str) -> int:
    """200 for a live session; 401 when the page sends its reader to log in."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session)
    response = client.get("/dept", follow_redirects=False)
    if response.status_code == 303 and response.headers["location"] == "/login?next=/dept":
        return 401
    return response.status_code


def test_login_starts_a_new_session_and_logout_ends_it(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    # an attacker plants a session id of their choosing before the victim logs in
    first = _login(client, {SESSION_COOKIE: "planted-by-attacker"})
    assert first != "planted-by-attacker" and len(first) >= 40
    assert _dept_status(client, "planted-by-attacker") == 401
    assert _dept_status(client, first) == 200
    # logging in again from that session rotates the id; the previous one stops working
    second = _login(client, {SESSION_COOKIE: first})
    assert second != first
    assert _dept_status(client, first) == 401
    assert _dept_status(client, second) == 200
    token = csrf_of(client.get("/dept").text)
    client.post("/logout", data={"csrf_token": token})
    assert _dept_status(client, second) == 401


def test_login_throttling_locks_after_five_failures(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    """Five failures back the address off from that username; a made-up username gets the
    very same answers, so the lock tells nobody which usernames exist."""
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)

    def attempt(username: str, password: str) -> Any:
        token = csrf_of(client.get("/login").text)
        return client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=False,
        )

    def error(page: str) -> str:
        found = re.search(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)
        text = found.group(1).strip() if found else page
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "(time)", text)

    for _ in range(5):
        attempt("samr.clerk", "wrong-" * 3)
    locked = attempt("samr.clerk", PASSWORD)
    assert locked.status_code == 401 and "过于频繁" in locked.text
    for _ in range(5):
        attempt("nobody.here", "wrong-" * 3)
    unknown = attempt("nobody.here", PASSWORD)
    assert unknown.status_code == 401 and error(unknown.text) == error(locked.text)
    with engine.connect() as conn:
        denied = conn.execute(
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "account.login", audit_events.c.outcome == "denied")
        ).scalar_one()
    assert denied == 12


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/dept/batches/..%2f..%2fetc%2fpasswd/rejects",
        "/api/v1/batches/..%2F..%2Fetc%2Fpasswd/rejects",
        "/api/v1/subjects/%2e%2e%2f1",
    ],
)
def test_path_tricks_reach_no_file(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (400, 401, 404, 422)
    assert "root:" not in response.text


def test_uploaded_file_names_never_become_paths(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path, web_settings: Settings
) -> None:
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    path = write_csv(tmp_path / "p.csv", [penalty(XINYUAN)])
    response = client.post(
        "/api/v1/batches",
        data={"dataset": "XZCF"},
        files={"file": ("../../../../tmp/evil.csv", path.read_bytes(), "text/csv")},
        headers=bearer(token),
    )
    assert response.status_code == 202, response.text
    kept = list((web_settings.data_dir / "uploads").iterdir())
    assert len(kept) == 1 and kept[0].name.endswith(".csv") and len(kept[0].stem) == 64
    assert not Path("/tmp/evil.csv").exists()


def test_secrets_never_reach_logs_or_the_audit_log(
    client: TestClient, engine: Engine, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    login(client, "samr.clerk")
    token_form = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "samr.clerk", "password": "一个错误的口令-123", "csrf_token": token_form},
    )
    client.get("/api/v1/batches", headers=bearer(token))
    client.get("/api/v1/batches", headers=bearer(token + "x"))
    session = client.cookies.get(SESSION_COOKIE) or "-"
    with engine.connect() as conn:
        logged = " ".join(str(tuple(r)) for r in conn.execute(select(audit_events)))
    for secret in (PASSWORD, "一个错误的口令-123", token, session):
        assert secret not in caplog.text
        assert secret not in logged
