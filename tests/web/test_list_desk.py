"""The lists lifecycle through its doors (issue 10, item 5): a prior notice, the department's
entries, one entry, an early exit with reason and exit notice, and a subject's history — by
command, by API (a department system's token) and on the clerk pages; only the designating
department acts; the exit notice is on the public list page; each step is an audit event and
the exit reaches the departments implementing the entry's measures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, HENGDA, XINYUAN
from fixtures.web import bearer, csrf_of, login, make_account, make_token
from lists.rows import NDRC, deliver, headers, list_row, record_by_doc
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.cli import app as cli_app
from xinyong.lists.models import list_entries, list_notices
from xinyong.notifications.models import notification_events
from xinyong.records import states
from xinyong.records.models import records


def _listed(engine: Engine, catalog: Catalog, tmp_path: Path) -> tuple[dict[str, Any], ...]:
    rows = [
        list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕1号", NDRC),
        list_row(headers(catalog, "YZSX"), HENGDA, "濮发改信〔2026〕2号", NDRC),
    ]
    assert deliver(engine, catalog, tmp_path, "YZSX", rows).new == 2
    return record_by_doc(engine, "濮发改信〔2026〕1号"), record_by_doc(
        engine, "濮发改信〔2026〕2号"
    )


def _actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(audit_events.c.action))]


def _exited(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            r.payload
            for r in conn.execute(
                select(notification_events).where(notification_events.c.kind == "list.exited")
            )
        ]


def test_api_notice_entries_exit_and_history(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    first, second = _listed(engine, catalog, tmp_path)
    ndrc = bearer(make_token(engine, catalog, "ndrc.system", NDRC.uscc))
    env = bearer(make_token(engine, catalog, "env.system", ENV.uscc))

    page = client.get("/api/v1/lists/entries", headers=ndrc)
    assert page.status_code == 200, page.text
    assert page.json()["total"] == 2
    assert {e["subject_name"] for e in page.json()["items"]} == {XINYUAN.name, HENGDA.name}
    # another department sees none of them and cannot reach one by its id
    assert client.get("/api/v1/lists/entries", headers=env).json()["total"] == 0
    assert client.get(f"/api/v1/lists/entries/{first['id']}", headers=env).status_code == 404
    assert client.get("/api/v1/lists/entries").status_code in (401, 403)

    notice = client.post(
        "/api/v1/lists/notices",
        headers=ndrc,
        json={
            "dataset": "YZSX",
            "subject_id": second["subject_id"],
            "basis": "《河南省社会信用条例》第二十八条",
            "reasons": "拒不履行生效行政处罚决定",
            "served_on": "2026-12-01",
            "doc_no": "濮发改告〔2026〕8号",
            "objection_days": 7,
        },
    )
    assert notice.status_code == 201, notice.text
    assert notice.json()["objection_until"] == "2026-12-08"
    # 濮阳市交通运输局 designates no list kind
    traffic = bearer(make_token(engine, catalog, "traffic.system", "11410900PY0000073W"))
    refused = client.post(
        "/api/v1/lists/notices",
        headers=traffic,
        json={
            "dataset": "YZSX",
            "subject_id": second["subject_id"],
            "basis": "x",
            "reasons": "y",
            "served_on": "2026-12-01",
        },
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "LIST_NOT_DESIGNATOR"

    # the early exit: another department cannot; a reason outside the early ones is refused
    body = {"reason": "performed", "basis": "当事人已全部履行处罚决定", "on": "2026-12-05"}
    assert (
        client.post(f"/api/v1/lists/entries/{first['id']}/exit", headers=env, json=body)
    ).status_code == 404
    bad = client.post(
        f"/api/v1/lists/entries/{first['id']}/exit",
        headers=ndrc,
        json=body | {"reason": "repaired"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "EXIT_REASON_INVALID"
    future = client.post(
        f"/api/v1/lists/entries/{first['id']}/exit", headers=ndrc, json=body | {"on": "2027-01-01"}
    )
    assert future.json()["error"]["code"] == "EXIT_DATE_FUTURE"
    done = client.post(f"/api/v1/lists/entries/{first['id']}/exit", headers=ndrc, json=body)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "exited" and done.json()["exited_on"] == "2026-12-05"
    assert [n["kind"] for n in done.json()["notices"]] == ["exit"]
    again = client.post(f"/api/v1/lists/entries/{first['id']}/exit", headers=ndrc, json=body)
    assert again.status_code == 409

    with engine.connect() as conn:
        state = conn.execute(select(records.c.state).where(records.c.id == first["id"])).scalar()
    assert state == states.EXPIRED
    exited = _exited(engine)
    assert len(exited) == 1 and exited[0]["record_id"] == first["id"]
    assert exited[0]["measures"], "the departments are told which measures stop"
    assert {"list.prior_notice", "list.exit"} <= set(_actions(engine))

    hist = client.get(
        f"/api/v1/lists/subjects/{first['subject_id']}/history",
        headers=ndrc,
        params={"at": "2026-12-04"},
    ).json()
    assert [e["kind"] for e in hist["events"]] == ["entered", "exited"]
    assert [s["record_id"] for s in hist["on_lists"]] == [first["id"]]
    after = client.get(f"/api/v1/lists/subjects/{first['subject_id']}/history", headers=ndrc).json()
    assert after["on_lists"] == []
    # the public black list no longer shows the entry, and publishes the exit notice
    black = client.get("/lists/black").text
    assert "移出公告" in black and "当事人已全部履行处罚决定" in black
    # the public API's lists route is still reached for red/black
    assert client.get("/api/v1/lists/black").status_code == 200


def test_clerk_pages_record_a_notice_and_exit_an_entry(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    first, _ = _listed(engine, catalog, tmp_path)
    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    assert client.get(f"/dept/lists/{first['id']}").status_code == 404
    client.cookies.clear()
    login(client, "ndrc.clerk")
    home = client.get("/dept/lists")
    assert home.status_code == 200 and XINYUAN.name in home.text
    made = client.post(
        "/dept/lists/notices",
        data={
            "csrf_token": csrf_of(home.text),
            "subject_code": HENGDA.uscc,
            "dataset": "YZSX",
            "basis": "《河南省社会信用条例》第二十八条",
            "reasons": "拒不履行",
            "served_on": "2026-12-02",
            "objection_days": "5",
            "doc_no": "濮发改告〔2026〕9号",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert "濮发改告〔2026〕9号" in client.get("/dept/lists").text
    detail = client.get(f"/dept/lists/{first['id']}")
    assert "提前移出" in detail.text
    missing = client.post(
        f"/dept/lists/{first['id']}/exit",
        data={"csrf_token": csrf_of(detail.text), "reason": "performed", "basis": ""},
    )
    assert missing.status_code == 400 and "移出须写明依据" in missing.text
    gone = client.post(
        f"/dept/lists/{first['id']}/exit",
        data={"csrf_token": csrf_of(detail.text), "reason": "source", "basis": "认定部门复核撤销"},
    )
    assert gone.status_code == 200 and "已移出" in gone.text and "移出公告" in gone.text
    assert "认定部门决定移出" in gone.text  # the reason as its label, not its code
    with engine.connect() as conn:
        entry = conn.execute(
            select(list_entries).where(list_entries.c.record_id == first["id"])
        ).one()
        notices = conn.execute(select(list_notices.c.kind)).scalars().all()
    assert entry.status == "exited" and entry.exit_reason == "source"
    assert sorted(notices) == ["exit", "prior"]


def test_cli_lists_commands(cli: None, engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    first, _ = _listed(engine, catalog, tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(cli_app, list(args))
        return result

    shown = run("lists", "show", "--dept", NDRC.uscc, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["total"] == 2
    assert json.loads(run("lists", "show", "--dept", ENV.uscc, "--json").output)["total"] == 0

    notice = run(
        "lists", "notice", HENGDA.uscc, "--dataset", "YZSX", "--basis", "第二十八条",
        "--reasons", "拒不履行", "--served-on", "2026-12-01", "--dept", NDRC.uscc, "--json",
    )  # fmt: skip
    assert notice.exit_code == 0, notice.output
    assert json.loads(notice.output)["objection_until"] == "2026-12-06"

    refused = run(
        "lists", "exit", str(first["id"]), "--reason", "performed", "--basis", "已履行",
        "--dept", ENV.uscc, "--json",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert json.loads(refused.output)["error"]["code"] == "LIST_ENTRY_NOT_FOUND"
    done = run(
        "lists", "exit", str(first["id"]), "--reason", "performed", "--basis", "已履行",
        "--on", "2026-12-03",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "已发布移出公告" in done.output

    one = json.loads(run("lists", "show", str(first["id"]), "--json").output)
    assert one["status"] == "exited" and one["exit_reason"] == "performed"
    hist = run("lists", "history", XINYUAN.uscc, "--at", "2026-12-02")
    assert hist.exit_code == 0, hist.output
    assert "在列：YZSX" in hist.output
    assert "list.refused" in _actions(engine)


def test_change_by_api_page_and_command(
    cli: None, client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """变更 through each door: the entry changes, the refusal is a 404 to another department,
    each change is audited and told to the implementing departments (list.changed)."""
    first, second = _listed(engine, catalog, tmp_path)
    ndrc = bearer(make_token(engine, catalog, "ndrc.system", NDRC.uscc))
    env = bearer(make_token(engine, catalog, "env.system", ENV.uscc))
    url = f"/api/v1/lists/entries/{first['id']}/change"
    body = {
        "reason": "决定书更正",
        "valid_until": "2028-03-01",
        "doc_no": "濮发改信〔2026〕1号（更正）",
    }
    assert client.post(url, json=body, headers=env).status_code == 404
    done = client.post(url, json=body, headers=ndrc)
    assert done.status_code == 200, done.text
    assert done.json()["valid_until"] == "2028-03-01"
    assert done.json()["changed"]["MD_YXQZ"] == ["", "2028-03-01"]
    assert [e["label"] for e in done.json()["events"]] == ["列入", "变更"]
    assert client.post(url, json={"reason": " ", "facts": "x"}, headers=ndrc).status_code == 400

    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    login(client, "ndrc.clerk")
    detail = client.get(f"/dept/lists/{second['id']}")
    assert "保存变更" in detail.text and "列入事由" in detail.text
    changed = client.post(
        f"/dept/lists/{second['id']}/change",
        data={
            "csrf_token": csrf_of(detail.text),
            "reason": "补登法定代表人",
            "legal_rep_name": "郭某某",
            "facts": "拒不履行生效行政处罚决定，情节严重，经复核更正",
        },
    )
    assert changed.status_code == 200 and "变更" in changed.text and "郭某某" in changed.text

    result = CliRunner().invoke(
        cli_app,
        ["lists", "change", str(first["id"]), "--reason", "有效期更正", "--valid-until", "none"],
    )
    assert result.exit_code == 0, result.output
    assert "MD_YXQZ 2028-03-01 → 空" in result.output
    with engine.connect() as conn:
        until = conn.execute(
            select(list_entries.c.valid_until).where(list_entries.c.record_id == first["id"])
        ).scalar()
        told = conn.execute(
            select(notification_events.c.kind).where(notification_events.c.kind == "list.changed")
        ).all()
    assert until is None and len(told) == 3
    assert _actions(engine).count("list.change") == 3
