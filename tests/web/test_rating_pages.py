"""The rural ratings where the other models' results are: the household head reads its 信用户
criteria with the figures and what it lacks on /me/evaluation and over the API; the public reads
a village's 信用村 grade (and nothing more) on its subject page and over the API, and nothing of
a household's."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from evaluation.rows import TODAY
from evaluation.test_rating import VILLAGE, area, household
from fastapi.testclient import TestClient
from fixtures.tools import require
from fixtures.web import bearer, csrf_of, login, make_account, make_token
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
    unstated = client.get(f"/api/v1/subjects/{head}/evaluation/XYH", headers=bearer(token))
    assert unstated.status_code == 400  # a person's grade: the reader states its purpose
    assert unstated.json()["error"]["code"] == "PURPOSE_REQUIRED"
    whole = client.get(
        f"/api/v1/subjects/{head}/evaluation/XYH",
        params={"purpose": "日常监管"},
        headers=bearer(token),
    )
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
    # operators: the monitoring page of the village rating, by district
    make_account(engine, catalog, "op.rural", Role.OPERATOR)
    login(client, "op.rural")
    desk = client.get("/admin/evaluation", params={"model": "XYC"})
    assert desk.status_code == 200
    assert "信用村" in desk.text and "410922" in desk.text


def test_the_self_report_explains_a_rating(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """Downloaded from /me: the household head's own report carries its 信用户 criteria, the
    figures and what it lacks (issue 15 item 3)."""
    with engine.begin() as conn:
        head = household(conn, NH_JTNSR="0.8")  # income below the floor
        for code in ("XYH",):
            run_model(conn, catalog, model_book(catalog).get(code), as_of=TODAY, actor="t")
    make_account(engine, catalog, "nonghu2", Role.SUBJECT, subject_id=head)
    login(client, "nonghu2")
    me = client.get("/me")
    report = client.post("/me/report", data={"csrf_token": csrf_of(me.text)})
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    path = tmp_path / "self.pdf"
    path.write_bytes(report.content)
    pdftotext = require("pdftotext", "poppler-utils")
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    flat = re.sub(r"\s+", "", text)
    assert "十二、信用评价结果及说明" in flat and "信用户评定" in flat
    assert "评价等级未评定信用户（未达到信用户条件）" in flat and "达到条件5/6项" in flat
    assert "各项评定条件" in flat and "未达到" in flat
    assert "有合法稳定、可偿还的收入（家庭年纯收入，万元）0.8≥1未达到" in flat
    assert "达到以下条件后，下次评定可评为信用户" in flat
