"""The auditors' room: events in Chinese (role, action, outcome), filters chosen from lists, a
subject named by any of its codes (the lookup itself audited), keyset pages that neither skip
nor repeat while events are appended, one event's detail with its hashes, the chain's heads and
a verification on demand; nobody but auditors and operators gets in."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.audit import service as audit
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.sample.datasets import PENALTY_HEADERS


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="/audit/event/(\d+/\d+)">', body)


def test_the_auditor_reads_filters_pages_and_verifies(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(
            XINYUAN,
            "濮市监罚决字〔2026〕00901号",
            处罚决定日期="2026/10/09",
            处罚有效期="2027/10/09",
        )
    ]
    run(engine, catalog, write_csv(tmp_path / "p.csv", rows, PENALTY_HEADERS))
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    assert client.get("/audit").status_code == 403
    client.cookies.clear()
    with engine.begin() as conn:
        for n in range(60):
            audit.append(
                conn,
                actor="batch-robot",
                role="dept_system",
                action="record.read",
                outcome="ok",
                detail={"n": n},
            )
    login(client, "auditor.one")
    first = client.get("/audit")
    assert first.status_code == 200
    # people read Chinese: labels, not codes
    assert "查阅信用记录" in first.text and "部门系统" in first.text and "成功" in first.text
    assert ">record.read<" not in first.text and ">dept_system<" not in first.text
    page_one = _rows(first.text)
    assert len(page_one) == 50
    # an event appended between two pages does not shift the next page
    with engine.begin() as conn:
        audit.append(conn, actor="late", role="operator", action="record.read", outcome="ok")
    next_url = re.search(r'<a href="(/audit\?[^"]+)">下一页', first.text)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    assert second.status_code == 200, (
        next_url.group(1),
        second.text[second.text.find("<main") :][:800],
    )
    page_two = _rows(second.text)
    assert page_two and not set(page_one) & set(page_two)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
    assert len(page_one) + len(page_two) + 1 >= min(total, 100)
    # filters from lists: an unknown outcome is refused, a known action narrows
    assert client.get("/audit", params={"outcome": "maybe"}).status_code == 400
    denied = client.get("/audit", params={"action": "access.denied"})
    assert (
        denied.status_code == 200
        and "访问被拒绝" in denied.text
        and "查阅信用记录</td>" not in denied.text
    )
    # a subject by its USCC: found in the registry, and that lookup is an event itself
    by_code = client.get("/audit", params={"subject": XINYUAN.uscc})
    assert by_code.status_code == 200 and XINYUAN.name in by_code.text
    with engine.connect() as conn:
        looked = conn.execute(
            select(audit_events.c.actor).where(audit_events.c.action == "audit.search")
        ).all()
    assert [r.actor for r in looked] == ["auditor.one"]
    assert client.get("/audit", params={"subject": "91410900000000000X"}).status_code in (400, 404)
    # one event in full, with its hashes
    detail = client.get(f"/audit/event/{page_one[0]}")
    assert (
        detail.status_code == 200 and "本事件哈希" in detail.text and "前一事件哈希" in detail.text
    )
    assert client.get("/audit/event/1/999999").status_code == 404
    # the chain's heads are shown; verification on demand says the log is whole
    assert "审计链状态" in first.text and "外部锚点摘要" in first.text
    verified = client.post("/audit/verify", data={"csrf_token": csrf_of(first.text)})
    assert verified.status_code == 200 and "完整" in verified.text
    assert client.post("/audit/verify", data={"csrf_token": "x"}).status_code == 403
