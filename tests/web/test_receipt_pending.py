"""The clerk's receipt lists the rows waiting for a subject (待关联) and links them in the
browser (issue 14 item 2): the delivering department's clerk links its own, with the same
service and audit event as the operator's queue and the command line; an auditor reads the
receipt without the forms; another department's clerk does not see the batch at all."""

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
from xinyong.records.models import records
from xinyong.subjects.models import subjects

USCC_HEADER = "行政相对人代码_1(统一社会信用代码)"


def _links(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(audit_events)
                .where(audit_events.c.action == "subject.link")
            )
            or 0
        )


def test_a_clerk_links_the_pending_rows_of_its_receipt(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    # HENGDA known from an earlier delivery, so the receipt offers it as a candidate
    run(
        engine,
        catalog,
        write_csv(tmp_path / "h.csv", [penalty(HENGDA, "濮市监罚决字〔2026〕00001号")]),
    )
    receipt = run(
        engine,
        catalog,
        write_csv(
            tmp_path / "samr.csv",
            [
                penalty(XINYUAN, "濮市监罚决字〔2026〕00201号"),
                penalty(HENGDA, "濮市监罚决字〔2026〕00202号", **{USCC_HEADER: ""}),
            ],
        ),
    )
    assert receipt.pending == 1 and receipt.batch_id
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")

    page = client.get(f"/dept/batches/{receipt.batch_id}")
    assert page.status_code == 200
    assert "待关联主体的记录（1 条）" in page.text and "第 3 行" in page.text
    assert HENGDA.name in page.text and HENGDA.uscc in page.text  # the candidate offered
    assert "行政处罚信息（XZCF）" in page.text  # the dataset by name
    found = re.search(rf'action="/dept/batches/{receipt.batch_id}/pending/(\d+)/link"', page.text)
    assert found
    record_id = int(found.group(1))
    token = csrf_of(page.text)
    before = _links(engine)

    # a wrong or missing code comes back on that row's form; nothing is linked
    wrong = client.post(
        f"/dept/batches/{receipt.batch_id}/pending/{record_id}/link",
        data={"csrf_token": token, "code": "91410900MA0000000X"},
    )
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text
    assert 'value="91410900MA0000000X"' in wrong.text  # what the clerk typed, kept
    empty = client.post(
        f"/dept/batches/{receipt.batch_id}/pending/{record_id}/link",
        data={"csrf_token": token, "code": ""},
    )
    assert empty.status_code == 400 and "请输入主体的统一社会信用代码" in empty.text
    assert _links(engine) == before

    linked = client.post(
        f"/dept/batches/{receipt.batch_id}/pending/{record_id}/link",
        data={"csrf_token": token, "code": HENGDA.uscc},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    after = client.get(linked.headers["location"])
    assert f"记录 {record_id} 已关联到主体" in after.text
    assert "待关联主体的记录" not in after.text
    assert _links(engine) == before + 1
    with engine.connect() as conn:
        subject_id = conn.scalar(select(records.c.subject_id).where(records.c.id == record_id))
        assert subject_id == conn.scalar(
            select(subjects.c.id).where(subjects.c.uscc == HENGDA.uscc)
        )


def test_the_receipt_is_the_delivering_department_s(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    receipt = run(
        engine,
        catalog,
        write_csv(
            tmp_path / "samr.csv",
            [penalty(HENGDA, "濮市监罚决字〔2026〕00301号", **{USCC_HEADER: ""})],
        ),
    )
    assert receipt.pending == 1 and receipt.batch_id
    with engine.connect() as conn:
        record_id = conn.scalar(select(records.c.id).where(records.c.batch_id == receipt.batch_id))
    # an auditor reads the receipt and its pending rows, without the forms
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)
    login(client, "auditor.one")
    read = client.get(f"/dept/batches/{receipt.batch_id}")
    assert read.status_code == 200 and "待关联主体的记录（1 条）" in read.text
    assert "/pending/" not in read.text
    client.post("/logout", data={"csrf_token": csrf_of(read.text)})

    # another department's clerk sees neither the receipt nor its rows, and cannot link them
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    assert client.get(f"/dept/batches/{receipt.batch_id}").status_code == 404
    token = csrf_of(client.get("/dept").text)
    refused = client.post(
        f"/dept/batches/{receipt.batch_id}/pending/{record_id}/link",
        data={"csrf_token": token, "code": HENGDA.uscc},
    )
    assert refused.status_code == 404
    with engine.connect() as conn:
        assert conn.scalar(select(records.c.subject_id).where(records.c.id == record_id)) is None
