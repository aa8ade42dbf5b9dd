"""The operator's room: accounts and tokens, departments and what they deliver, through the
pages. Each change of power is exactly one audit event of its action, as on the command line;
a one-time secret is shown once, not stored in a page anyone can reload; mistakes are shown on
the form that caused them; other roles are refused (the permission table covers every role)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR
from fixtures.web import bearer, csrf_of, login, make_account
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog


def _events(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, func.count())
            .where(audit_events.c.outcome == "ok")
            .group_by(audit_events.c.action)
        )
        return {r[0]: int(r[1]) for r in rows}


def _new_events(engine: Engine, before: dict[str, int]) -> dict[str, int]:
    after = _events(engine)
    changed = {a: n - before.get(a, 0) for a, n in after.items()}
    # reading pages as an operator writes no event here; logins are not changes of power
    return {a: n for a, n in changed.items() if n and a not in ("account.login", "account.logout")}


def _post(client: TestClient, url: str, page_url: str, data: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(page_url).text)
    return client.post(url, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def _secret(html: str) -> str:
    found = re.search(r'<code class="mono" id="secret">([^<]+)</code>', html)
    assert found, html
    return found.group(1)


def test_accounts_each_change_one_audit_event(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")

    before = _events(engine)
    made = _post(
        client,
        "/admin/accounts",
        "/admin/accounts",
        {"username": "clerk.new", "display_name": "王经办", "role": "clerk", "dept": SAMR.uscc},
    )
    assert made.status_code == 200, made.text
    assert "初始密码（只显示这一次）" in made.text and made.headers["cache-control"] == "no-store"
    first_password = _secret(made.text)
    assert _new_events(engine, before) == {"account.create": 1}

    # the list, filtered by role, department and state, names the department in Chinese
    listed = client.get(f"/admin/accounts?role=clerk&dept={SAMR.uscc}&state=active")
    assert "clerk.new" in listed.text and "濮阳市市场监督管理局" in listed.text
    assert "/admin/accounts/operator.one" not in listed.text
    assert "/admin/accounts/clerk.new" not in client.get("/admin/accounts?state=disabled").text
    assert client.get("/admin/accounts?role=root").status_code == 400

    # the new clerk logs in with the password shown once
    other = TestClient(client.app)
    login(other, "clerk.new", first_password)

    before = _events(engine)
    reset = _post(client, "/admin/accounts/clerk.new/password", "/admin/accounts/clerk.new")
    assert reset.status_code == 200 and "新密码（只显示这一次）" in reset.text
    second_password = _secret(reset.text)
    assert second_password != first_password
    assert _new_events(engine, before) == {"account.password": 1}
    login(TestClient(client.app), "clerk.new", second_password)

    before = _events(engine)
    off = _post(client, "/admin/accounts/clerk.new/disable", "/admin/accounts/clerk.new")
    assert off.status_code == 303 and off.headers["location"].endswith("?done=disabled")
    assert _new_events(engine, before) == {"account.disable": 1}
    page = client.get(off.headers["location"])
    assert "账号已停用" in page.text and "启用账号" in page.text
    assert "/admin/accounts/clerk.new" in client.get("/admin/accounts?state=disabled").text

    before = _events(engine)
    on = _post(client, "/admin/accounts/clerk.new/enable", "/admin/accounts/clerk.new")
    assert on.status_code == 303
    assert _new_events(engine, before) == {"account.enable": 1}

    # a department system: no password, tokens shown once, revoked at once
    before = _events(engine)
    system = _post(
        client,
        "/admin/accounts",
        "/admin/accounts",
        {"username": "samr.system", "role": "dept_system", "dept": SAMR.uscc},
    )
    assert system.status_code == 303 and "done=created" in system.headers["location"]
    assert _new_events(engine, before) == {"account.create": 1}
    refused = _post(client, "/admin/accounts/samr.system/password", "/admin/accounts/samr.system")
    assert refused.status_code == 400 and "PASSWORD_NOT_USED" in refused.text

    before = _events(engine)
    issued = _post(
        client,
        "/admin/accounts/samr.system/tokens",
        "/admin/accounts/samr.system",
        {"label": "市场监管局报送接口", "days": "30"},
    )
    assert issued.status_code == 200 and "令牌密钥（只显示这一次）" in issued.text
    secret = _secret(issued.text)
    assert _new_events(engine, before) == {"token.issue": 1}
    assert client.get("/api/v1/batches", headers=bearer(secret)).status_code == 200
    detail = client.get("/admin/accounts/samr.system")
    assert "市场监管局报送接口" in detail.text and secret not in detail.text
    token_id = re.search(r'action="/admin/tokens/(\d+)/revoke"', detail.text)
    assert token_id

    before = _events(engine)
    revoked = _post(
        client, f"/admin/tokens/{token_id.group(1)}/revoke", "/admin/accounts/samr.system"
    )
    assert revoked.status_code == 303
    assert _new_events(engine, before) == {"token.revoke": 1}
    assert client.get("/api/v1/batches", headers=bearer(secret)).status_code == 401

    # mistakes come back on the form, in Chinese, with nothing written
    before = _events(engine)
    taken = _post(
        client,
        "/admin/accounts",
        "/admin/accounts",
        {"username": "clerk.new", "role": "clerk", "dept": SAMR.uscc},
    )
    assert taken.status_code == 409 and "已被使用" in taken.text
    assert 'value="clerk.new"' in taken.text
    no_dept = _post(
        client, "/admin/accounts", "/admin/accounts", {"username": "clerk.two", "role": "clerk"}
    )
    assert no_dept.status_code == 400 and "必须指定所属部门" in no_dept.text
    bad_days = _post(
        client,
        "/admin/accounts/samr.system/tokens",
        "/admin/accounts/samr.system",
        {"days": "0"},
    )
    assert bad_days.status_code == 400 and "有效天数" in bad_days.text
    assert _new_events(engine, before) == {}
    assert client.get("/admin/accounts/nobody.here").status_code == 404


def test_accounts_room_refused_to_a_clerk(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "clerk.one", Role.CLERK, dept_uscc=SAMR.uscc)
    make_account(engine, catalog, "victim.one", Role.AUDITOR)
    login(client, "clerk.one")
    assert client.get("/admin/accounts").status_code == 403
    refused = _post(client, "/admin/accounts/victim.one/disable", "/dept")
    assert refused.status_code == 403
    with engine.connect() as conn:
        denied = conn.scalar(
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "access.denied", audit_events.c.actor == "clerk.one")
        )
    assert denied and denied >= 1


NEW_DEPT = "11410900MB1234562N"  # synthetic, check characters right


def test_departments_add_update_disable_enable(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")
    listing = client.get("/admin/departments")
    assert listing.status_code == 200
    # what each may deliver by name, and the list kinds it designates (from the list register)
    assert "濮阳市市场监督管理局" in listing.text and "行政处罚" in listing.text
    assert "经营异常名录" in listing.text

    uscc = NEW_DEPT
    before = _events(engine)
    added = _post(
        client,
        "/admin/departments",
        "/admin/departments",
        {"uscc": uscc, "name": "濮阳市测试局", "division": "410900", "datasets": ["XZCF"]},
    )
    assert added.status_code == 303, added.text
    assert _new_events(engine, before) == {"department.add": 1}
    page = client.get(added.headers["location"])
    assert "部门已登记" in page.text and "濮阳市测试局" in page.text

    before = _events(engine)
    updated = _post(
        client,
        f"/admin/departments/{uscc}",
        f"/admin/departments/{uscc}",
        {"name": "濮阳市测试管理局", "division": "410900", "datasets": ["XZCF", "XZXK"]},
    )
    assert updated.status_code == 303
    assert _new_events(engine, before) == {"department.update": 1}
    page = client.get(f"/admin/departments/{uscc}")
    assert "濮阳市测试管理局" in page.text and "行政许可" in page.text

    before = _events(engine)
    off = _post(
        client,
        f"/admin/departments/{uscc}/disable",
        f"/admin/departments/{uscc}",
        {"reason": "机构改革"},
    )
    assert off.status_code == 303
    on = _post(client, f"/admin/departments/{uscc}/enable", f"/admin/departments/{uscc}")
    assert on.status_code == 303
    assert _new_events(engine, before) == {"department.disable": 1, "department.enable": 1}

    # mistakes on the form: a bad code, a taken name, no change at all
    before = _events(engine)
    bad = _post(
        client,
        "/admin/departments",
        "/admin/departments",
        {"uscc": "123", "name": "某局", "division": "410900"},
    )
    assert bad.status_code == 400 and "统一社会信用代码" in bad.text and 'value="某局"' in bad.text
    same = _post(
        client,
        f"/admin/departments/{uscc}",
        f"/admin/departments/{uscc}",
        {"name": "濮阳市测试管理局", "division": "410900", "datasets": ["XZCF", "XZXK"]},
    )
    assert same.status_code == 400 and "未指定要修改的内容" in same.text
    assert _new_events(engine, before) == {}
