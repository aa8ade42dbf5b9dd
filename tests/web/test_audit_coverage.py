"""Every non-public read and every change of power leaves exactly one audit event, from the
web and the command line alike (issue 11 item 6): a walk through the actions, each followed by
a look at what the log gained."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, SAMR, WANG, XINYUAN, make_uscc, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account, make_token
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.cli import app as cli_app
from xinyong.records.models import records
from xinyong.subjects.service import find_subject

NEW_DEPT = make_uscc("11", "410900", "PY000099")  # synthetic


def _events_after(engine: Engine, seq: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events).where(audit_events.c.seq > seq).order_by(audit_events.c.seq)
        )
        return [dict(r._mapping) for r in rows]


def _head(engine: Engine) -> int:
    events = _events_after(engine, 0)
    return events[-1]["seq"] if events else 0


def _cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli_app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.usefixtures("cli")
def test_each_audited_action_leaves_one_event(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    receipt = run(
        engine,
        catalog,
        write_csv(tmp_path / "1.csv", [penalty(XINYUAN), penalty(WANG, "濮市监罚决字〔2023〕9号")]),
    )
    batch_id = receipt.batch_id
    with engine.connect() as conn:
        xinyuan = int(find_subject(conn, XINYUAN.uscc)["id"])
        record_id = conn.execute(
            select(records.c.id).where(records.c.subject_id == xinyuan)
        ).scalar_one()
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    api = {"Authorization": f"Bearer {token}"}
    checked = client.post(
        "/api/v1/checks", json={"subject_code": XINYUAN.uscc, "matter": "licensing"}, headers=api
    )
    assert checked.status_code == 201, checked.text
    check_id = checked.json()["check_id"]
    token_id: list[str] = []

    def issue() -> None:
        _cli("accounts", "token", "samr.clerk", "--label", "测试")
        listed = _cli("accounts", "tokens", "samr.clerk", "--json")
        token_id.append(str(json.loads(listed)[0]["id"]))

    # a clerk logged in on the pages (the login is an event of its own, before the walk)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    dept_add = ["departments", "add", NEW_DEPT, "濮阳市测试局", "--datasets", "XZCF"]

    def page(path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.text

        return call

    def failed_registration() -> None:
        form = client.get("/register").text
        response = client.post(
            "/register",
            data={
                "csrf_token": csrf_of(form),
                "kind": "person",
                "code": WANG.id_number,
                "name": "不是本人",
                "username": "someone.else",
                "password": "濮阳测试口令-2026-注册",
            },
        )
        assert response.status_code == 400, response.text

    def refused_delivery() -> None:
        # a PDF is refused by its first bytes, before it is queued
        response = client.post(
            "/api/v1/batches",
            data={"dataset": "XZCF"},
            files={"file": ("x.csv", b"%PDF-1.4\n%%EOF\n", "text/csv")},
            headers=api,
        )
        assert response.status_code in (400, 403, 422), response.text

    def get(path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path, headers=api)
            assert response.status_code == 200, response.text

        return call

    actions: list[tuple[str, Callable[[], None], str, dict[str, Any]]] = [
        (
            "accounts create on the command line",
            lambda: _cli(
                "accounts",
                "create",
                "samr.clerk",
                "--role",
                "clerk",
                "--dept",
                SAMR.uscc,
                "--password-stdin",
                stdin="濮阳测试口令-2026-审计\n",
            ),
            "account.create",
            {"role": "operator"},
        ),
        (
            "a new password on the command line",
            lambda: _cli("accounts", "password", "samr.clerk", stdin="濮阳测试口令-2027-审计\n"),
            "account.password",
            {"role": "operator"},
        ),
        ("accounts token on the command line", issue, "token.issue", {"role": "operator"}),
        (
            "revoking that token",
            lambda: _cli("accounts", "revoke-token", token_id[0]),
            "token.revoke",
            {},
        ),
        (
            "disabling the account",
            lambda: _cli("accounts", "disable", "samr.clerk"),
            "account.disable",
            {},
        ),
        (
            "enabling it again",
            lambda: _cli("accounts", "enable", "samr.clerk"),
            "account.enable",
            {"role": "operator"},
        ),
        (
            "a batch receipt on the API",
            get(f"/api/v1/batches/{batch_id}"),
            "batch.read",
            {"batch_id": batch_id},
        ),
        (
            "its rejects on the API",
            get(f"/api/v1/batches/{batch_id}/rejects"),
            "batch.read",
            {"batch_id": batch_id},
        ),
        (
            "a batch receipt on the command line",
            lambda: _cli("batch", "show", str(batch_id)),
            "batch.read",
            {"batch_id": batch_id},
        ),
        (
            "its rejects on the command line",
            lambda: _cli("batch", "rejects", str(batch_id), "-o", str(tmp_path / "r.csv")),
            "batch.read",
            {"batch_id": batch_id},
        ),
        (
            "a check's detail",
            get(f"/api/v1/checks/{check_id}"),
            "check.read",
            {"dept_uscc": SAMR.uscc},
        ),
        (
            "a government search by ID number",
            get(f"/api/v1/subjects?q={WANG.id_number}"),
            "subject.search_id",
            {"role": "dept_system"},
        ),
        (
            "a clerk's search by ID number on the page",
            page(f"/search?q={WANG.id_number}"),
            "subject.search_id",
            {"role": "clerk"},
        ),
        ("a department added", lambda: _cli(*dept_add), "department.add", {}),
        (
            "a department changed",
            lambda: _cli("departments", "update", NEW_DEPT, "--name", "濮阳市测试局（更名）"),
            "department.update",
            {},
        ),
        (
            "a department disabled",
            lambda: _cli("departments", "disable", NEW_DEPT, "--reason", "撤并"),
            "department.disable",
            {},
        ),
        (
            "a department enabled",
            lambda: _cli("departments", "enable", NEW_DEPT, "--reason", "恢复"),
            "department.enable",
            {},
        ),
        (
            "a subject's page read with a purpose (查询事由)",
            page(f"/subjects/{xinyuan}?purpose=日常监管"),
            "subject.read",
            {"role": "clerk", "purpose": "日常监管", "subject_id": xinyuan},
        ),
        (
            "a subject looked up at the window (窗口代录)",
            page(f"/dept/objections/new?subject={XINYUAN.uscc}"),
            "subject.read",
            {"role": "clerk", "purpose": "窗口代录异议申请", "subject_id": xinyuan},
        ),
        (
            "a subject's records on the API with a purpose",
            get(f"/api/v1/subjects/{xinyuan}/records?purpose=执法检查"),
            "subject.read",
            {"role": "dept_system", "purpose": "执法检查"},
        ),
        (
            "a subject on the command line",
            lambda: _cli("subject", XINYUAN.uscc, "--purpose", "行政审批"),
            "subject.read",
            {"role": "operator", "purpose": "行政审批", "subject_id": xinyuan},
        ),
        (
            "a record in full on the command line",
            lambda: _cli("records", "show", str(record_id), "--purpose", "行政审批"),
            "record.read",
            {"role": "operator", "purpose": "行政审批", "record_id": record_id},
        ),
        ("a failed registration", failed_registration, "account.register", {"outcome": "denied"}),
        ("a refused delivery", refused_delivery, "batch.ingest", {"outcome": "denied"}),
    ]
    for what, action, expected, columns in actions:
        before = _head(engine)
        action()
        events = _events_after(engine, before)
        assert [e["action"] for e in events] == [expected], what
        for column, value in columns.items():
            assert events[0][column] == value, (what, column)
    # the searches name the person found, never the full number
    with engine.connect() as conn:
        searches = conn.execute(
            select(audit_events).where(audit_events.c.action == "subject.search_id")
        ).all()
    assert len(searches) == 2
    for search in searches:
        assert search.subject_id is not None and WANG.id_number not in str(search.detail)
