"""Evaluation over the API: the bulk check's answer file carries each row's supervision class
and the inspection advice the model attaches (分类监管), as a single check's answer does."""

from __future__ import annotations

from evaluation.rows import TODAY, company, listing
from fastapi.testclient import TestClient
from fixtures.deliveries import ENV
from fixtures.web import bearer, make_token
from sqlalchemy import Engine, select

from xinyong.catalog.loader import Catalog
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import run_model
from xinyong.subjects.models import subjects


def test_bulk_check_rows_carry_class_and_advice_over_the_api(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    model = model_book(catalog).get("QYGGXY")
    with engine.begin() as conn:
        plain, listed = company(conn), company(conn)
        listing(conn, listed, "YZSX", "HN33")
        run_model(conn, catalog, model, as_of=TODAY, actor="t")
        codes = [
            conn.execute(select(subjects.c.uscc).where(subjects.c.id == sid)).scalar_one()
            for sid in (plain, listed)
        ]
    token = make_token(engine, catalog, "env.system", ENV.uscc)
    body = ("统一社会信用代码\n" + "\n".join(codes) + "\n").encode()
    response = client.post(
        "/api/v1/checks/bulk",
        data={"matter": "procurement"},
        files={"file": ("list.csv", body, "text/csv")},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    lines = [line.split(",") for line in response.content.decode("utf-8-sig").splitlines()]
    assert lines[0][-2:] == ["监管分类（分类监管）", "抽查频次建议（双随机）"]
    advice = {b.code: b.advice for b in model.classes}
    assert [line[-2:] for line in lines[1:]] == [
        ["B类（信用风险一般，抽查5%）", f"B类：{advice['B']}"],
        ["D类（信用风险高，抽查50%）", f"D类：{advice['D']}"],
    ]
