"""The clerk's desk (issue 14 item 2): the department's batches with filters (dataset, outcome,
received dates) and paging, and a refused file shown on the form that sent it, with the reason
and its code, instead of an error page."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, HENGDA, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog

USCC_HEADER = "行政相对人代码_1(统一社会信用代码)"


def test_the_desk_filters_the_department_s_batches(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    clean = run(
        engine, catalog, write_csv(tmp_path / "a.csv", [penalty(XINYUAN, "濮市监罚〔2026〕1号")])
    )
    waiting = run(
        engine,
        catalog,
        write_csv(
            tmp_path / "b.csv", [penalty(HENGDA, "濮市监罚〔2026〕2号", **{USCC_HEADER: ""})]
        ),
    )
    other = run(
        engine,
        catalog,
        write_csv(tmp_path / "c.csv", [penalty(XINYUAN, "濮环罚〔2026〕3号", dept=ENV)]),
        dept=ENV,
    )
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    every = client.get("/dept")
    assert every.status_code == 200 and "历史批次（2）" in every.text
    link = 'href="/dept/batches/{}"'
    assert link.format(clean.batch_id) in every.text and link.format(waiting.batch_id) in every.text
    assert link.format(other.batch_id) not in every.text  # another department's
    assert "行政处罚信息" in every.text  # the dataset by name
    pending = client.get("/dept?state=pending")
    assert link.format(waiting.batch_id) in pending.text
    assert link.format(clean.batch_id) not in pending.text
    later = client.get("/dept?since=2030-01-01")
    assert "没有符合条件的批次" in later.text
    bad = client.get("/dept?state=whatever")
    assert bad.status_code == 400 and "不在可选范围内" in bad.text


def test_a_refused_file_comes_back_on_the_form(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    desk = client.get("/dept")
    refused = client.post(
        "/dept/batches",
        data={"csrf_token": csrf_of(desk.text), "dataset": "NO_SUCH_DATASET"},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert refused.status_code in (400, 404, 422)
    assert "文件未能报送" in refused.text and 'role="alert"' in refused.text
    assert 'action="/dept/batches"' in refused.text  # the form itself, to try again
