"""The rural ratings where the other models' results are: the household head reads its 信用户
criteria with the figures and what it lacks on /me/evaluation and over the API; the public reads
a village's 信用村 grade (and nothing more) on its subject page and over the API, and nothing of
a household's."""

from __future__ import annotations

from evaluation.rows import TODAY
from evaluation.test_rating import VILLAGE, area, household
from fastapi.testclient import TestClient
from fixtures.web import bearer, login, make_account, make_token
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import run_model

PBOC = "11410900PY00002259"  # 中国人民银行濮阳市分行 (departments.yaml)


def test_ratings_on_pages_and_api(client: TestClient, engine: Engine, catalog: Catalog) -> None:
    with engine.begin() as conn:
        head = household(conn, NH_LSQK="1.5")  # old arrears: not a 信用户
        for _ in range(7):
            household(conn)
        village = area(conn, "行政村", VILLAGE)
        for code in ("XYH", "XYC"):
            run_model(conn, catalog, model_book(catalog).get(code), as_of=TODAY, actor="t")
    # the public: the village's grade only; nothing of a household
    shown = client.get(f"/api/v1/subjects/{village}/evaluation/XYC")
    assert shown.status_code == 200, shown.text
    assert shown.json()["grade"] == "信用村" and "criteria" not in shown.json()
    assert "信用村评定" in client.get(f"/subjects/{village}").text
    assert client.get(f"/api/v1/subjects/{head}/evaluation/XYH").status_code == 404
    # government over the API: every criterion with its figure, and what it lacks
    token = make_token(engine, catalog, "pboc.system", PBOC)
    whole = client.get(f"/api/v1/subjects/{head}/evaluation/XYH", headers=bearer(token))
    assert whole.status_code == 200, whole.text
    lacking = [c for c in whole.json()["criteria"] if not c["met"]]
    assert [(c["code"], c["figure_text"], c["threshold"]) for c in lacking] == [
        ("WLSQK", "1.5", "≤ 0")
    ]
    # the household head on its own page
    make_account(engine, catalog, "nonghu", Role.SUBJECT, subject_id=head)
    login(client, "nonghu")
    page = client.get("/me/evaluation")
    assert page.status_code == 200
    text = page.text
    assert "信用户评定" in text and "各项评定条件" in text and "达到条件" in text
    assert "无历史欠款（历史欠款余额，万元）≤ 0（现为1.5）" in text
    assert "可评为信用户" in text
