"""A password an operator made (a new account's, a reset) is known to two people: its holder
must choose their own at the next login before anything else; any holder can change theirs
from the page every logged-in page links to, giving the current one; the change ends the
account's other sessions and is one audit event, never holding the password."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR
from fixtures.web import PASSWORD, csrf_of, login, make_account
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog

NEW_PASSWORD = "濮阳经办-本人设置-2026"


def _secret(html: str) -> str:
    found = re.search(r'<code class="mono" id="secret">([^<]+)</code>', html)
    assert found, html
    return found.group(1)


def _events(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count()).where(
                    audit_events.c.action == action, audit_events.c.outcome == "ok"
                )
            )
            or 0
        )


def _change(client: TestClient, current: str, new: str, again: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/account/password").text)
    data = {"csrf_token": token, "current": current, "new": new, "again": again or new, **extra}
    return client.post("/account/password", data=data, follow_redirects=False)


def _made_by_operator(client: TestClient, engine: Engine, catalog: Catalog) -> str:
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")
    token = csrf_of(client.get("/admin/accounts").text)
    made = client.post(
        "/admin/accounts",
        data={
            "csrf_token": token,
            "username": "clerk.new",
            "display_name": "王经办",
            "role": "clerk",
            "dept": SAMR.uscc,
        },
    )
    assert made.status_code == 200, made.text
    return _secret(made.text)


def test_an_operators_password_is_replaced_before_anything_else(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    first = _made_by_operator(client, engine, catalog)
    clerk = TestClient(client.app)
    token = csrf_of(clerk.get("/login").text)
    answer = clerk.post(
        "/login",
        data={"username": "clerk.new", "password": first, "csrf_token": token, "next": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/password?next=/dept"
    form = clerk.get(answer.headers["location"])
    assert "请先改为只有您本人知道的密码" in form.text
    # every other page sends the clerk back to the form, and comes back after it
    desk = clerk.get("/dept?state=done", follow_redirects=False)
    assert desk.status_code == 303
    assert desk.headers["location"] == "/account/password?next=/dept%3Fstate%3Ddone"
    # the API through the browser session is refused with a code a script can read
    api = clerk.get("/api/v1/cases")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    # a second desk logged in with the same handed-over password
    other = TestClient(client.app)
    login(other, "clerk.new", first)

    refused = {
        "PASSWORD_CURRENT_WRONG": _change(clerk, "不是这个密码-123", NEW_PASSWORD),
        "PASSWORD_MISMATCH": _change(clerk, first, NEW_PASSWORD, NEW_PASSWORD + "x"),
        "PASSWORD_UNCHANGED": _change(clerk, first, first),
        "PASSWORD_WEAK": _change(clerk, first, "short1"),
    }
    for code, answer in refused.items():
        assert answer.status_code == 400, (code, answer.text)
    assert "当前密码不正确" in refused["PASSWORD_CURRENT_WRONG"].text
    assert "两次输入的新密码不一致" in refused["PASSWORD_MISMATCH"].text
    assert "新密码不能与当前密码相同" in refused["PASSWORD_UNCHANGED"].text
    assert "密码太短" in refused["PASSWORD_WEAK"].text
    assert _events(engine, "account.password.own") == 0

    done = _change(clerk, first, NEW_PASSWORD, next="/dept?state=done")
    assert done.status_code == 200, done.text
    assert "密码已修改" in done.text and "1 个登录已退出" in done.text
    assert 'href="/dept?state=done"' in done.text
    assert clerk.get("/dept", follow_redirects=False).status_code == 200
    # the other desk's session ended with the old password; the old password is gone
    assert other.get("/dept", follow_redirects=False).headers["location"].startswith("/login")
    again = TestClient(client.app)
    token = csrf_of(again.get("/login").text)
    old = again.post(
        "/login", data={"username": "clerk.new", "password": first, "csrf_token": token}
    )
    assert old.status_code == 401
    login(again, "clerk.new", NEW_PASSWORD)
    assert again.get("/dept", follow_redirects=False).status_code == 200
    assert _events(engine, "account.password.own") == 1
    with engine.connect() as conn:
        details = conn.execute(
            select(audit_events.c.detail).where(audit_events.c.action == "account.password.own")
        ).scalar_one()
    assert first not in str(details) and NEW_PASSWORD not in str(details)

    # an operator's reset hands over a password again: the next login asks once more
    token = csrf_of(client.get("/admin/accounts/clerk.new").text)
    reset = client.post("/admin/accounts/clerk.new/password", data={"csrf_token": token})
    third = _secret(reset.text)
    later = TestClient(client.app)
    token = csrf_of(later.get("/login").text)
    answer = later.post(
        "/login",
        data={"username": "clerk.new", "password": third, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.headers["location"].startswith("/account/password")


def test_a_holder_who_chose_their_password_changes_it_from_any_page(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)
    login(client, "auditor.one")
    audit_page = client.get("/audit")
    assert audit_page.status_code == 200 and 'href="/account/password"' in audit_page.text
    form = client.get("/account/password")
    assert form.status_code == 200 and "请先改为" not in form.text
    done = _change(client, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 200 and 'href="/audit"' in done.text
    # nobody logged in has no password to change
    assert (
        TestClient(client.app)
        .get("/account/password", follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )
