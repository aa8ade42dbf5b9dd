"""Cases over the JSON API, the window filing page and the 异议处理中 mark, on both databases.

A subject (its session, the CSRF token in a header) files an objection and supplies material;
the source department's system (its token) pauses, resumes, asks for material and decides; bad
input answers with a stable code and changes nothing, refusals are audited. A clerk files an
objection received at the window. While a record is under objection, the public subject page
and the PDF credit report show it 异议处理中."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN
from fixtures.tools import require
from fixtures.web import bearer, csrf_of, login, make_token
from sqlalchemy import Engine, select

from web.test_objection_pages import PNG, _refusals, _setup
from xinyong.accounts.roles import Principal
from xinyong.cases.models import case_events, cases
from xinyong.catalog.loader import Catalog
from xinyong.records.models import records
from xinyong.reports.content import ReportKind
from xinyong.reports.pdf import render_report
from xinyong.reports.service import issue_report
from xinyong.settings import Settings

ENV_DEPT = "11410900PY00000577"  # 濮阳市生态环境局: not the source of the penalty


def _csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_of(client.get("/me").text)}


def test_cases_api_end_to_end(
    client: TestClient, app: object, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    mine, theirs = _setup(engine, catalog, tmp_path)
    system = bearer(make_token(engine, catalog, "samr-system", SAMR.uscc))
    other = bearer(make_token(engine, catalog, "env-system", ENV_DEPT))
    login(client, "xinyuan")
    form = {"record_id": str(mine), "reason": "罚款金额有误"}
    # a session write without the CSRF header is refused; another subject's record too
    r = client.post("/api/v1/cases/objections", data=form)
    assert r.status_code == 403 and r.json()["error"]["code"] == "CSRF_FAILED"
    r = client.post(
        "/api/v1/cases/objections", data={**form, "record_id": str(theirs)}, headers=_csrf(client)
    )
    assert r.json()["error"]["code"] == "OBJECTION_NOT_OWN_RECORD"
    with engine.connect() as conn:
        assert conn.scalar(select(cases.c.id)) is None
    r = client.post(
        "/api/v1/cases/objections",
        data=form,
        files={"evidence": ("决定书.png", PNG, "image/png")},
        headers=_csrf(client),
    )
    assert r.status_code == 201, r.text
    filed = r.json()
    case_no = filed["case_no"]
    assert filed["kind"] == "objection" and filed["follow_code"]
    assert {"state", "deadline", "deadline_provisional"} <= set(filed)
    assert [f["media_type"] for f in filed["files"]] == ["png"]
    assert [c["case_no"] for c in client.get("/api/v1/cases").json()["items"]] == [case_no]

    # the source department's system works it; another department does not see it
    queue = client.get("/api/v1/cases", headers=system).json()["items"]
    assert [c["case_no"] for c in queue] == [case_no]
    assert client.get("/api/v1/cases", headers=other).json()["items"] == []
    r = client.post(
        f"/api/v1/cases/{case_no}/decision",
        json={"outcome": "upheld", "reason": "x"},
        headers=other,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "CASE_NOT_FOUND"
    r = client.post(
        f"/api/v1/cases/{case_no}/decision",
        json={"outcome": "maybe", "reason": "x"},
        headers=system,
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "CASE_OUTCOME_UNKNOWN"
    r = client.post(
        f"/api/v1/cases/{case_no}/pause",
        json={"cause": "inspection", "reason": "送检票据"},
        headers=system,
    )
    assert r.status_code == 200 and r.json()["state"] == "paused"
    r = client.post(f"/api/v1/cases/{case_no}/resume", json={"reason": "检验完毕"}, headers=system)
    assert r.json()["state"] != "paused"
    r = client.post(
        f"/api/v1/cases/{case_no}/material-request", json={"reason": "缴款凭证"}, headers=system
    )
    assert r.json()["material_requested"] is True

    # the subject supplies it: a file that is not what it claims is refused, then a good one
    r = client.post(
        f"/api/v1/cases/{case_no}/material",
        files={"evidence": ("凭证.pdf", b"MZ\x90\x00", "application/pdf")},
        headers=_csrf(client),
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "CASE_FILE_REFUSED"
    r = client.post(
        f"/api/v1/cases/{case_no}/material",
        data={"note": "缴款凭证扫描件"},
        files={"evidence": ("凭证.png", PNG, "image/png")},
        headers=_csrf(client),
    )
    assert r.status_code == 201, r.text
    shown = r.json()
    assert shown["material_requested"] is False and len(shown["files"]) == 2
    assert "actor" not in shown["events"][0]  # the subject does not see who handled it
    assert shown["events"][-1]["kind"] == "material_received"

    # the decision closes it; a closed case refuses any change
    r = client.post(
        f"/api/v1/cases/{case_no}/decision",
        json={"outcome": "upheld", "reason": "经核实，原信息无误"},
        headers=system,
    )
    assert r.status_code == 200 and r.json()["state"] == "closed"
    r = client.post(f"/api/v1/cases/{case_no}/pause", json={"reason": "x"}, headers=system)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CASE_CLOSED"
    # a subject may not decide, nor a department system file
    r = client.post(
        f"/api/v1/cases/{case_no}/decision",
        json={"outcome": "upheld", "reason": "x"},
        headers=_csrf(client),
    )
    assert r.status_code == 403
    r = client.post("/api/v1/cases/objections", data=form, headers=system)
    assert r.status_code == 403 and r.json()["error"]["code"] == "OBJECTION_NOT_ALLOWED"
    refused = _refusals(engine)
    assert {"OBJECTION_NOT_OWN_RECORD", "CASE_FILE_REFUSED", "CASE_CLOSED"} <= set(refused)
    with engine.connect() as conn:
        kinds = [k for (k,) in conn.execute(select(case_events.c.kind).order_by(case_events.c.id))]
    assert kinds == [
        "filed",
        "paused",
        "resumed",
        "material_requested",
        "material_received",
        "decided",
    ]
    spec = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/cases", "/api/v1/cases/objections", "/api/v1/cases/{case_no}/decision"):
        assert path in spec


def test_window_filing_page(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    mine, _ = _setup(engine, catalog, tmp_path)
    login(client, "samr")
    r = client.get("/dept/objections/new?subject=91410900ZZZZZZZZZZ")
    assert r.status_code == 200 and 'role="alert"' in r.text
    page = client.get(f"/dept/objections/new?subject={XINYUAN.uscc}").text
    assert XINYUAN.name in page and f'value="{mine}"' in page
    token = csrf_of(page)
    r = client.post(
        "/dept/objections",
        data={"record_id": str(mine), "reason": "申请人当面提交：金额有误", "csrf_token": token},
        files={"evidence": ("扫描件.png", PNG, "image/png")},
    )
    assert r.status_code == 201 and "查询码" in r.text and "请告知申请人" in r.text
    with engine.connect() as conn:
        channel = conn.scalar(select(cases.c.channel))
        state = conn.scalar(select(records.c.state).where(records.c.id == mine))
    assert channel == "window" and state == "异议中"
    # the record under objection is no longer offered
    assert f'value="{mine}"' not in client.get(f"/dept/objections/new?subject={XINYUAN.uscc}").text


def test_objected_record_shows_marked_on_the_public_page_and_the_report(
    client: TestClient,
    engine: Engine,
    catalog: Catalog,
    web_settings: Settings,
    tmp_path: Path,
) -> None:
    mine, _ = _setup(engine, catalog, tmp_path)
    login(client, "xinyuan")
    r = client.post(
        "/api/v1/cases/objections",
        data={"record_id": str(mine), "reason": "金额有误"},
        headers=_csrf(client),
    )
    assert r.status_code == 201, r.text
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/me").text)})
    with engine.connect() as conn:
        subject_id = conn.scalar(select(records.c.subject_id).where(records.c.id == mine))
    public_page = client.get(f"/subjects/{subject_id}?tab=行政处罚").text
    assert "异议处理中" in public_page
    record = client.get(f"/api/v1/subjects/{subject_id}/records").json()["items"]
    objected = [x for x in record if x["id"] == mine]
    assert objected and objected[0]["state_label"] == "异议处理中" and objected[0]["marked"]
    with engine.begin() as conn:
        report = issue_report(
            conn, catalog, Principal.public("t"), subject_id, kind=ReportKind.PUBLIC
        )
    path = tmp_path / "report.pdf"
    path.write_bytes(render_report(report, web_settings))
    pdftotext = require("pdftotext", "poppler-utils")
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "异议处理中" in text
