"""The objection pages through the test client on both databases: bad input is refused with
its code and recorded (a forged case number, a form without its CSRF token, an objection on
another subject's record, a file that is not what it claims), nothing changes; evidence is only
served as a download."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import csrf_of, login, make_account
from sqlalchemy import Engine, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.records.models import records
from xinyong.subjects.models import subjects

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _setup(engine: Engine, catalog: Catalog, tmp: Path) -> tuple[int, int]:
    rows = [
        penalty(
            XINYUAN, "濮市监罚决字〔2026〕1号", 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15"
        ),
        penalty(
            HENGDA, "濮市监罚决字〔2026〕2号", 处罚决定日期="2026/10/15", 处罚有效期="2027/10/15"
        ),
    ]
    run(engine, catalog, write_csv(tmp / "p.csv", rows))
    with engine.connect() as conn:
        mine, theirs = (
            conn.execute(
                select(records.c.id)
                .join(subjects, subjects.c.id == records.c.subject_id)
                .where(subjects.c.uscc == who.uscc)
            ).scalar_one()
            for who in (XINYUAN, HENGDA)
        )
        subject_id = conn.scalar(select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc))
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)
    make_account(engine, catalog, "samr", Role.CLERK, dept_uscc=SAMR.uscc)
    return mine, theirs


def _refusals(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            r.detail["code"]
            for r in conn.execute(
                select(audit_events.c.detail)
                .where(audit_events.c.action == "case.refused")
                .order_by(audit_events.c.seq)
            )
        ]


def test_bad_input_is_refused_and_recorded(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    mine, theirs = _setup(engine, catalog, tmp_path)
    login(client, "xinyuan")
    token = csrf_of(client.get("/me").text)
    # no CSRF token: refused before anything
    r = client.post("/me/objections", data={"record_id": str(mine), "reason": "有误"})
    assert r.status_code == 403
    # another subject's record
    r = client.post(
        "/me/objections", data={"record_id": str(theirs), "reason": "x", "csrf_token": token}
    )
    assert r.status_code == 403 and "OBJECTION_NOT_OWN_RECORD" in r.text
    # an executable named .pdf
    r = client.post(
        "/me/objections",
        data={"record_id": str(mine), "reason": "x", "csrf_token": token},
        files={"evidence": ("证据.pdf", b"MZ\x90\x00\x03", "application/pdf")},
    )
    assert r.status_code == 400 and "CASE_FILE_REFUSED" in r.text
    with engine.connect() as conn:
        assert conn.scalar(select(cases.c.id)) is None
        assert conn.scalar(select(records.c.state).where(records.c.id == mine)) == "公示中"
    # a good one
    r = client.post(
        "/me/objections",
        data={"record_id": str(mine), "reason": "罚款金额有误", "csrf_token": token},
        files={"evidence": ("决定书.png", PNG, "image/png")},
    )
    assert r.status_code == 201 and "异议已受理" in r.text
    with engine.connect() as conn:
        case_no = conn.scalar(select(cases.c.case_no))
    assert case_no
    # the same form replayed: the open objection refuses it
    r = client.post(
        "/me/objections",
        data={"record_id": str(mine), "reason": "罚款金额有误", "csrf_token": token},
    )
    assert r.status_code == 409 and "OBJECTION_OPEN" in r.text
    # a forged number
    r = client.get("/me/cases/YY20261207-0099")
    assert r.status_code == 404 and "CASE_NOT_FOUND" in r.text
    # evidence only as a download
    page = client.get(f"/me/cases/{case_no}").text
    assert "异议处理中" in page
    r = client.get(f"/cases/{case_no}/files/1")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    # the department decides; a closed case cannot be decided again
    login(client, "samr")
    token = csrf_of(client.get("/dept/cases").text)
    form = {"outcome": "upheld", "reason": "经核实无误", "csrf_token": token}
    r = client.post(f"/dept/cases/{case_no}/decide", data=form, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/dept/cases/{case_no}/decide", data=form)
    assert r.status_code == 409 and "CASE_CLOSED" in r.text
    assert _refusals(engine) == [
        "OBJECTION_NOT_OWN_RECORD",
        "CASE_FILE_REFUSED",
        "OBJECTION_OPEN",
        "CASE_NOT_FOUND",
        "CASE_CLOSED",
    ]
    r = client.get(f"/cases/{case_no}/decision")
    assert r.status_code == 200 and "维持原信息" in r.text
    assert r.headers["content-disposition"].startswith("attachment")
