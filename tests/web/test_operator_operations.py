"""The operator's room, what flows through the platform: every department's batches with
filters and paging, each linking to its receipt; the pending queue across departments, linked
in the browser as on the command line (one ``subject.link`` event); the measures and list
kinds by name; the feedback rates per department and measure."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, HENGDA, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog

USCC_HEADER = "行政相对人代码_1(统一社会信用代码)"


def _deliver(engine: Engine, catalog: Catalog, tmp_path: Path) -> tuple[int, int]:
    samr = run(
        engine,
        catalog,
        write_csv(
            tmp_path / "samr.csv",
            [
                penalty(XINYUAN, "濮市监罚决字〔2026〕00101号"),
                penalty(HENGDA, "濮市监罚决字〔2026〕00102号", **{USCC_HEADER: ""}),
            ],
        ),
    )
    env = run(
        engine,
        catalog,
        write_csv(tmp_path / "env.csv", [penalty(XINYUAN, "濮环罚〔2026〕001号", dept=ENV)]),
        dept=ENV,
    )
    assert samr.pending == 1 and samr.batch_id and env.batch_id
    return samr.batch_id, env.batch_id


def test_batches_across_departments(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    samr, env = _deliver(engine, catalog, tmp_path)
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")
    every = client.get("/admin/batches")
    assert every.status_code == 200
    assert (
        f'href="/dept/batches/{samr}"' in every.text and f'href="/dept/batches/{env}"' in every.text
    )
    assert "濮阳市生态环境局" in every.text and "行政处罚" in every.text
    only_env = client.get(f"/admin/batches?dept={ENV.uscc}")
    assert f'href="/dept/batches/{env}"' in only_env.text
    assert f'href="/dept/batches/{samr}"' not in only_env.text
    pending = client.get("/admin/batches?state=pending&dataset=XZCF")
    assert f'href="/dept/batches/{samr}"' in pending.text
    assert f'href="/dept/batches/{env}"' not in pending.text
    today = client.get("/admin/batches?since=2026-12-07&until=2026-12-07")
    assert f'href="/dept/batches/{samr}"' in today.text
    before = client.get("/admin/batches?until=2026-12-06")
    assert "没有符合条件的批次" in before.text
    assert client.get("/admin/batches?state=lost").status_code == 400
    assert client.get("/admin/batches?since=7.12.2026").status_code == 400
    # the receipt the list links to opens for the operator
    assert client.get(f"/dept/batches/{samr}").status_code == 200


def test_batches_page_through(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    for n in range(52):
        path = write_csv(
            tmp_path / f"b{n}.csv", [penalty(XINYUAN, f"濮市监罚决字〔2026〕0{n:04d}号")]
        )
        run(engine, catalog, path)
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")
    first = client.get(f"/admin/batches?dept={SAMR.uscc}")
    assert "第 1 / 2 页，共 52 条" in first.text
    assert len(re.findall(r'href="/dept/batches/\d+"', first.text)) == 50
    second = client.get(f"/admin/batches?dept={SAMR.uscc}&page=2")
    assert len(re.findall(r'href="/dept/batches/\d+"', second.text)) == 2
    assert "上一页" in second.text


def test_pending_queue_linked_in_the_browser(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver(engine, catalog, tmp_path)
    # HENGDA known to the registry by an earlier delivery, so it is offered as a candidate
    run(
        engine,
        catalog,
        write_csv(tmp_path / "h.csv", [penalty(HENGDA, "濮市监罚决字〔2026〕00001号")]),
    )
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")
    queue = client.get(f"/admin/pending?dept={SAMR.uscc}")
    assert queue.status_code == 200
    assert HENGDA.name in queue.text and HENGDA.uscc in queue.text  # the candidate
    record_id = int(re.search(r'action="/admin/pending/(\d+)/link', queue.text).group(1))  # type: ignore[union-attr]
    assert "没有待关联的记录" in client.get(f"/admin/pending?dept={ENV.uscc}").text

    # a wrong code comes back on the record's form, nothing linked
    token = csrf_of(queue.text)
    wrong = client.post(
        f"/admin/pending/{record_id}/link?dept={SAMR.uscc}",
        data={"csrf_token": token, "code": "91410900MA0000000X"},
    )
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text and "无效" in wrong.text

    with engine.connect() as conn:
        links = conn.scalar(
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "subject.link")
        )
    linked = client.post(
        f"/admin/pending/{record_id}/link?dept={SAMR.uscc}",
        data={"csrf_token": token, "code": HENGDA.uscc},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    after = client.get(linked.headers["location"])
    assert f"记录 {record_id} 已关联到主体" in after.text and "没有待关联的记录" in after.text
    with engine.connect() as conn:
        assert (
            conn.scalar(
                select(func.count())
                .select_from(audit_events)
                .where(audit_events.c.action == "subject.link")
            )
            == (links or 0) + 1
        )
    again = client.post(
        f"/admin/pending/{record_id}/link",
        data={"csrf_token": token, "code": HENGDA.uscc},
    )
    assert again.status_code == 409


def test_catalogue_and_feedback_by_name(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    login(client, "operator.one")
    page = client.get("/admin/catalogue")
    assert page.status_code == 200
    for text in ("失信惩戒措施", "守信激励措施", "严重失信主体名单", "认定部门", "列入"):
        assert text in page.text, text
    feedback = client.get("/admin/feedback")
    assert feedback.status_code == 200 and "按部门" in feedback.text and "暂无核查" in feedback.text
    admin = client.get("/admin")
    for href in (
        "/admin/accounts",
        "/admin/departments",
        "/admin/batches",
        "/admin/pending",
        "/admin/catalogue",
        "/admin/feedback",
    ):
        assert f'href="{href}"' in admin.text, href
