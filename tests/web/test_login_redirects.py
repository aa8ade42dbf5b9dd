"""A page read without a session goes to the login form and back (issue 14 item 2); the API
still answers 401; a login naming no page lands on the role's home."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR
from fixtures.web import PASSWORD, csrf_of, make_account
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog


def _log_in(client: TestClient, username: str, next: str | None) -> str:
    form = client.get("/login" + (f"?next={next}" if next else "")).text
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf_of(form)}
    if next is not None:
        data["next"] = next
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_a_page_without_a_session_redirects_to_login_and_back(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    response = client.get("/dept?page_no=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dept%3Fpage_no%3D2"
    form = client.get(response.headers["location"])
    assert "请先登录" in form.text and 'name="next" value="/dept?page_no=2"' in form.text
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    assert _log_in(client, "samr.clerk", "/dept?page_no=2") == "/dept?page_no=2"


def test_the_api_and_posted_forms_still_answer_401(client: TestClient) -> None:
    api = client.get("/api/v1/batches", follow_redirects=False)
    assert api.status_code == 401 and "error" in api.json()
    token = csrf_of(client.get("/login").text)
    posted = client.post("/dept/batches", data={"csrf_token": token}, follow_redirects=False)
    assert posted.status_code == 401


def test_each_role_lands_on_its_home_after_login(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    homes = {
        "samr.clerk": (Role.CLERK, "/dept"),
        "ops.one": (Role.OPERATOR, "/admin"),
        "audit.one": (Role.AUDITOR, "/audit"),
    }
    for username, (role, home) in homes.items():
        dept = SAMR.uscc if role is Role.CLERK else None
        make_account(engine, catalog, username, role, dept_uscc=dept)
        client.cookies.clear()
        assert _log_in(client, username, None) == home
    client.cookies.clear()
    # an explicit next wins; one off the site does not
    assert _log_in(client, "samr.clerk", "/lists") == "/lists"
    client.cookies.clear()
    assert _log_in(client, "samr.clerk", "//evil.example/") == "/"
