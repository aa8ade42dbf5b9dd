"""The operator computes the month's assessment in the browser, sees the reasons and the
monitoring flags and publishes the 通报; the public reads it on the portal; nobody else may
compute or publish."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.exchange import outbound
from xinyong.sample.datasets import PENALTY_HEADERS


def test_operator_publishes_and_the_public_reads(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(
            XINYUAN,
            "濮市监罚决字〔2026〕00701号",
            处罚决定日期="2026/11/02",
            处罚有效期="2027/11/02",
        )
    ]
    run(engine, catalog, write_csv(tmp_path / "p.csv", rows, PENALTY_HEADERS))
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    assert client.get("/assessment").status_code == 200
    assert "尚未发布考核通报" in client.get("/assessment").text
    refused = client.get("/admin/assessment?period=2026-12")
    assert refused.status_code in (401, 403) or "请先登录" in refused.text
    login(client, "env.clerk")
    assert client.get("/admin/assessment?period=2026-12").status_code == 403
    client.cookies.clear()
    login(client, "operator.one")
    desk = client.get("/admin/assessment?period=2026-12")
    assert desk.status_code == 200
    assert "濮阳市市场监督管理局" in desk.text and "按期报送率" in desk.text
    assert "数据监测提示" in desk.text and "逾期未报送" in desk.text
    bad = client.get("/admin/assessment?period=2026-13")
    assert bad.status_code == 400 and "考核期间须写作" in bad.text
    sent = client.post(
        "/admin/assessment/publish",
        data={"csrf_token": csrf_of(desk.text), "period": "2026-12", "note": "十二月通报"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/assessment/2026-12"
    client.cookies.clear()
    public = client.get("/assessment/2026-12")
    assert public.status_code == 200 and "十二月通报" in public.text
    assert "数据监测提示" not in public.text and 'name="csrf_token" value' not in re.sub(
        r'<form method="post" action="/logout">.*?</form>', "", public.text
    )
    assert "2026-12" in client.get("/assessment").text
    assert client.get("/assessment/2026-09").status_code == 404


def test_the_dashboard_and_its_excel_tables(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    import io

    from openpyxl import load_workbook

    rows = [
        penalty(
            XINYUAN,
            "濮市监罚决字〔2026〕00801号",
            处罚决定日期="2026/10/02",
            处罚有效期="2027/10/02",
        ),
        penalty(XINYUAN, "濮市监罚决字〔2026〕00802号", 处罚决定日期="2026/13/02"),
    ]
    name = "=HYPERLINK(1)处罚.csv"
    run(engine, catalog, write_csv(tmp_path / name, rows, PENALTY_HEADERS))
    with engine.begin() as conn:
        sent = outbound.export(
            conn,
            catalog,
            Principal(role=Role.OPERATOR, name="op", source="t"),
            since=None,
            output=_made(tmp_path / "out"),
        )
    assert sent.packages
    make_account(engine, catalog, "operator.one", Role.OPERATOR)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    assert client.get("/admin/dashboard").status_code == 403
    assert client.get("/admin/dashboard/failures.xlsx").status_code == 403
    client.cookies.clear()
    login(client, "operator.one")
    board = client.get("/admin/dashboard")
    assert board.status_code == 200
    for title in (
        "各部门每月报送批次",
        "数据监测提示",
        "失败或有退回的报送",
        "名单（按名单类别）",
        "数据交换",
    ):
        assert title in board.text
    assert "退回 1 行（共 2 行）" in board.text and "/dept/batches/" in board.text
    export = client.get("/admin/dashboard/failures.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    assert cells[0] == ["时间", "部门", "数据集", "文件", "情况"]
    assert cells[1][3].startswith("'=HYPERLINK") and cells[1][4] == "退回 1 行（共 2 行）"
    monthly = load_workbook(io.BytesIO(client.get("/admin/dashboard/deliveries.xlsx").content))
    first = [c.value for c in next(monthly.active.iter_rows(min_row=2))]  # type: ignore[union-attr]
    assert first[0] == "濮阳市市场监督管理局" and isinstance(first[-1], int)
    assert client.get("/admin/dashboard/nothing.xlsx").status_code == 404
    exchange = load_workbook(io.BytesIO(client.get("/admin/dashboard/exchange.xlsx").content))
    sent_row = [c.value for c in next(exchange.active.iter_rows(min_row=2))]  # type: ignore[union-attr]
    assert sent_row[:3] == ["报送省平台", sent_row[1], "已发送待回执"] and sent_row[3] >= 1


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
