"""The public case pages through the test client on both databases: a complaint filed without
an account (CSRF, rate limit, evidence sniffed), the reporter never visible to the subject (its
pages, the API, decisions, its credit report's query history), following a case by number and
code with no oracle and a rate limit, the statistics page, repair eligibility over the API and
in the credit report, and the repair withdrawal button."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import bearer, csrf_of, login, make_account, make_token
from sqlalchemy import Engine, select

from xinyong.accounts.roles import Principal, Role
from xinyong.cases import files as case_files
from xinyong.cases import repair
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.records.models import records
from xinyong.reports.content import ReportKind
from xinyong.reports.service import issue_report
from xinyong.sample.datasets import PENALTY_HEADERS
from xinyong.subjects.models import subjects
from xinyong.workdays.calendar import work_calendar

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
REPORTER = "举报人周某某"
CONTACT = "13912345678"


def _setup(engine: Engine, catalog: Catalog, tmp: Path) -> int:
    rows = [
        penalty(
            XINYUAN, "濮市监罚决字〔2026〕1号", 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15"
        ),
        penalty(HENGDA, "濮市监罚决字〔2026〕2号"),
    ]
    run(engine, catalog, write_csv(tmp / "p.csv", rows))
    with engine.connect() as conn:
        subject_id = int(
            conn.scalar(select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)) or 0
        )
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    make_account(engine, catalog, "samr", Role.CLERK, dept_uscc=SAMR.uscc)
    return subject_id


def _file(client: TestClient, **extra: Any) -> Any:
    token = csrf_of(client.get("/complaints/new").text)
    data = {
        "subject_code": XINYUAN.uscc,
        "industry": "market",
        "reason": "销售过期食品",
        "reporter_name": REPORTER,
        "reporter_contact": CONTACT,
        "csrf_token": token,
    } | extra
    return client.post("/complaints", data=data, files={"evidence": ("现场.png", PNG, "image/png")})


def _receipt(html: str) -> tuple[str, str]:
    case_no = re.search(r"(JB\d{8}-\d{4})", html)
    code = re.search(r'查询码：<strong class="code">([0-9A-F]+)</strong>', html)
    assert case_no and code, html
    return case_no.group(1), code.group(1)


def test_complaint_without_an_account_and_the_reporter_stays_hidden(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    subject_id = _setup(engine, catalog, tmp_path)
    # no CSRF token: refused, nothing stored
    r = client.post("/complaints", data={"subject_code": XINYUAN.uscc, "reason": "x"})
    assert r.status_code == 403
    r = _file(client, reason="")
    assert r.status_code == 400 and "CASE_REASON_REQUIRED" in r.text
    with engine.connect() as conn:
        assert conn.scalar(select(cases.c.id)) is None
    r = _file(client)
    assert r.status_code == 201, r.text
    case_no, code = _receipt(r.text)
    assert REPORTER not in r.text
    with engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.case_no == case_no)).one()
    assert row.subject_id == subject_id and row.dept_uscc == SAMR.uscc
    assert row.reporter["name"] == REPORTER

    # the subject: its pages, its case page, the decision, the evidence, its report
    login(client, "xinyuan")
    pages = [
        client.get("/me"),
        client.get(f"/me/cases/{case_no}"),
        client.get(f"/cases/{case_no}/decision"),
        client.get(f"/cases/{case_no}/files/1"),
        client.get(f"/subjects/{subject_id}"),
        client.post("/me/report", data={"csrf_token": csrf_of(client.get("/me").text)}),
    ]
    assert pages[0].status_code == 200 and pages[1].status_code == 404
    assert pages[2].status_code == 404 and pages[3].status_code == 404
    for page in pages:
        assert REPORTER not in page.text and CONTACT not in page.text
    for page in (pages[0], pages[4], pages[5]):  # the refusals echo the number asked about
        assert case_no not in page.text and "销售过期食品" not in page.text
    with engine.begin() as conn:
        subject = Principal(role=Role.SUBJECT, name="xinyuan", subject_id=subject_id)
        report = issue_report(conn, catalog, subject, subject_id, kind=ReportKind.SELF)
    shown = repr(report.content)
    assert REPORTER not in shown and CONTACT not in shown and "samr" not in shown
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/me").text)})
    # the public API about the subject says nothing of it either
    for path in (f"/api/v1/subjects/{subject_id}", f"/api/v1/subjects/{subject_id}/records"):
        api = client.get(path)
        assert api.status_code == 200 and REPORTER not in api.text and case_no not in api.text

    # the department sees the reporter and answers
    login(client, "samr")
    staff = client.get(f"/dept/cases/{case_no}")
    assert staff.status_code == 200 and REPORTER in staff.text and CONTACT in staff.text
    token = csrf_of(staff.text)
    r = client.post(
        f"/dept/cases/{case_no}/decide",
        data={"outcome": "substantiated", "reason": "已立案查处", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.post("/logout", data={"csrf_token": token})

    # the reporter follows the case without an account
    form = client.get("/cases/follow")
    followed = client.post(
        "/cases/follow",
        data={"case_no": case_no, "code": code.lower(), "csrf_token": csrf_of(form.text)},
    )
    assert followed.status_code == 200 and "查证属实" in followed.text
    assert "已立案查处" in followed.text and "samr" not in followed.text

    # the statistics page counts it
    stats = client.get("/cases/stats")
    assert stats.status_code == 200 and "查证属实 1" in stats.text
    assert case_no not in stats.text and REPORTER not in stats.text
    assert client.get(f"/cases/stats?dept={SAMR.uscc}&kind=complaint").status_code == 200
    assert client.get("/cases/stats?kind=bogus").status_code == 400
    assert client.get("/cases/stats?since=2026-13-01").status_code == 400


def test_follow_has_no_oracle_and_is_rate_limited(
    app: FastAPI, client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _setup(engine, catalog, tmp_path)
    case_no, code = _receipt(_file(client).text)
    token = csrf_of(client.get("/cases/follow").text)
    answers = [
        client.post("/cases/follow", data={"case_no": n, "code": c, "csrf_token": token})
        for n, c in (
            (case_no, "DEADBEEF"),
            ("JB20261207-9999", code),
            ("JB2026'--", code),
            (case_no, ""),
        )
    ]
    assert {a.status_code for a in answers} == {404}
    alerts = {re.findall(r'role="alert">([^<]*)<', a.text)[0] for a in answers}
    assert len(alerts) == 1
    app.state.settings = app.state.settings.model_copy(
        update={"rate_limit_follow_per_minute": 2, "rate_limit_complaint_per_minute": 1}
    )
    data = {"case_no": case_no, "code": "DEADBEEF", "csrf_token": token}
    statuses = [client.post("/cases/follow", data=data).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    limited = client.post("/cases/follow", data=data | {"code": code})
    assert limited.status_code == 429  # the right code does not get past the limit either
    assert _file(client).status_code == 201
    assert _file(client).status_code == 429


def test_repair_eligibility_in_the_api_and_the_report(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    subject_id = _setup(engine, catalog, tmp_path)
    with engine.connect() as conn:
        record_id = int(
            conn.scalar(select(records.c.id).where(records.c.subject_id == subject_id)) or 0
        )
    token = make_token(engine, catalog, "samr-system", SAMR.uscc)
    r = client.get(f"/api/v1/records/{record_id}/repair-eligibility", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"repairable", "from", "reason", "rule"}
    assert client.get(f"/api/v1/records/{record_id}/repair-eligibility").status_code == 401
    missing = client.get("/api/v1/records/999999/repair-eligibility", headers=bearer(token))
    assert missing.status_code == 404
    with engine.begin() as conn:
        report = issue_report(
            conn, catalog, Principal.public("t"), subject_id, kind=ReportKind.PUBLIC
        )
    entries = [
        rec
        for section in report.content["sections"]
        for part in section["datasets"]
        for rec in part["records"]
        if rec["id"] == record_id
    ]
    assert entries and entries[0]["repair"]["repairable"] == body["repairable"]
    assert entries[0]["repair"]["from"] == body["from"]


def test_subject_withdraws_a_repair_application_on_its_case_page(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    row = penalty(
        XINYUAN,
        "濮市监罚决字〔2026〕3号",
        处罚类别="暂扣许可证件",
        处罚内容="暂扣食品经营许可证三个月",
        处罚决定日期="2026/05/10",
        处罚有效期="2026/08/10",
        **{"暂扣或吊销证照名称及编号": "食品经营许可证 JY14109020012345", "罚款金额（万元）": ""},
    )
    headers = [*PENALTY_HEADERS, "暂扣或吊销证照名称及编号"]
    run(engine, catalog, write_csv(tmp_path / "p.csv", [row], headers))
    with engine.connect() as conn:
        subject_id = int(
            conn.scalar(select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)) or 0
        )
        record_id = int(
            conn.scalar(select(records.c.id).where(records.c.subject_id == subject_id)) or 0
        )
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    me = Principal(role=Role.SUBJECT, name="xinyuan", subject_id=subject_id)
    with engine.begin() as conn:
        found, _ = repair.apply(
            conn,
            me,
            catalog,
            work_calendar(Path(__file__).resolve().parents[2] / "catalog" / "calendar"),
            record_id,
            correction="已整改",
            signed_by="刘志强",
            uploads=[case_files.Upload("proof.png", PNG)],
            data_dir=tmp_path / "data",
        )
    login(client, "xinyuan")
    page = client.get(f"/me/cases/{found.case_no}")
    assert page.status_code == 200 and "撤回修复申请" in page.text
    r = client.post(
        f"/me/cases/{found.case_no}/withdraw",
        data={"reason": "暂不申请", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    after = client.get(f"/me/cases/{found.case_no}")
    assert "申请人撤回" in after.text and "撤回修复申请" not in after.text
