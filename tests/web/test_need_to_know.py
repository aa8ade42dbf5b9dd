"""Need-to-know (issue 11 item 5) end to end: a 授权查询 dataset (NSDJ, tax-credit grades
other than A) is delivered, refused to a department without the subject's authorisation,
readable once the subject grants it at /me, refused again once revoked; a clerk's paper
authorisation opens nothing until an operator confirms it. 公职人员诚信档案 (GZRY) is read by
the 组织人事 departments only. Every read and refusal is an audit event with its purpose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from fixtures.deliveries import LI, NDRC, ORGANISATION_DEPT, SAMR, XINYUAN, run, write_csv
from fixtures.web import bearer, csrf_of, login, make_account, make_token
from reports.data import NSXY_HEADERS, TAX
from sqlalchemy import Engine, select
from subjects.test_linking import GZRY_HEADERS

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.notifications import inbox
from xinyong.subjects.service import find_subject

PURPOSE = "信用贷款贴息资格审核"


def _deliver_grade(engine: Engine, catalog: Catalog, tmp_path: Path) -> int:
    grade = {
        "统一社会信用代码": XINYUAN.uscc,
        "纳税人名称": XINYUAN.name,
        "评价年度": "2025",
        "纳税信用等级": "C",
        "评价机关": TAX.name,
        "评价日期": "2026-04-20",
        "数据来源单位": TAX.name,
        "数据来源单位统一社会信用代码": TAX.uscc,
    }
    receipt = run(
        engine,
        catalog,
        write_csv(tmp_path / "nsdj.csv", [grade], NSXY_HEADERS),
        dataset="NSDJ",
        dept=TAX,
    )
    assert receipt.new == 1, receipt.rejects
    with engine.connect() as conn:
        return int(find_subject(conn, XINYUAN.uscc)["id"])


def _grades(client: TestClient, subject_id: int, token: str) -> Any:
    return client.get(
        f"/api/v1/subjects/{subject_id}/records",
        params={"dataset": "NSDJ", "purpose": PURPOSE},
        headers=bearer(token),
    )


def _last_event(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).first()


def test_the_authorised_path_from_delivery_to_revocation(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    subject_id = _deliver_grade(engine, catalog, tmp_path)
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=subject_id)

    refused = _grades(client, subject_id, token)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "AUTHORISATION_REQUIRED"
    denied = _last_event(engine)
    assert (denied.action, denied.outcome, denied.purpose) == ("access.denied", "denied", PURPOSE)
    assert denied.detail["datasets"] == ["NSDJ"]
    # not even a peek through the profile or the whole record list
    listed = client.get(
        f"/api/v1/subjects/{subject_id}/records",
        params={"purpose": PURPOSE},
        headers=bearer(token),
    )
    assert listed.status_code == 200
    assert all(r["dataset"] != "NSDJ" for r in listed.json()["items"])

    # the subject grants it online at /me
    login(client, "xinyuan")
    me = client.get("/me")
    assert me.status_code == 200 and "C" in me.text  # the subject sees its own grade
    granted = client.post(
        "/me/authorisations",
        data={
            "csrf_token": csrf_of(me.text),
            "dept": NDRC.uscc,
            "purpose": PURPOSE,
            "valid_until": "2027-03-31",
        },
        follow_redirects=False,
    )
    assert granted.status_code == 303, granted.text
    readable = _grades(client, subject_id, token)
    assert readable.status_code == 200, readable.text
    [grade] = readable.json()["items"]
    values = {i["code"]: i["value"] for i in grade["items"]}
    assert (grade["dataset"], values["NS_XYDJ"]) == ("NSDJ", "C")
    read = _last_event(engine)
    assert (read.action, read.purpose, read.dept_uscc) == ("subject.read", PURPOSE, NDRC.uscc)
    # another purpose is another question
    other = client.get(
        f"/api/v1/subjects/{subject_id}/records",
        params={"dataset": "NSDJ", "purpose": "招投标资格审查"},
        headers=bearer(token),
    )
    assert other.status_code == 403

    # the subject revokes it: refused again
    me = client.get("/me")
    auth_id = me.text.split("/me/authorisations/")[1].split("/")[0]
    revoked = client.post(
        f"/me/authorisations/{auth_id}/revoke",
        data={"csrf_token": csrf_of(me.text), "reason": "贷款已办结"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert _grades(client, subject_id, token).status_code == 403


def test_a_paper_authorisation_opens_nothing_until_an_operator_confirms(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    subject_id = _deliver_grade(engine, catalog, tmp_path)
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    make_account(engine, catalog, "zhao.operator", Role.OPERATOR)

    login(client, "ndrc.clerk")
    page = client.get("/dept/authorisations")
    recorded = client.post(
        "/dept/authorisations",
        data={
            "csrf_token": csrf_of(page.text),
            "subject": XINYUAN.uscc,
            "purpose": PURPOSE,
            "valid_from": "2026-12-01",
            "valid_until": "2027-05-31",
        },
        files={"scan": ("授权书.pdf", b"%PDF-1.4\n% signed\n", "application/pdf")},
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    listing = client.get("/dept/authorisations").text
    assert "待确认" in listing and "/confirm" not in listing  # a clerk cannot confirm
    assert _grades(client, subject_id, token).status_code == 403  # provisional

    login(client, "zhao.operator")
    page = client.get("/dept/authorisations")
    auth_id = page.text.split("/dept/authorisations/")[1].split("/")[0]
    confirmed = client.post(
        f"/dept/authorisations/{auth_id}/confirm",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    assert _grades(client, subject_id, token).status_code == 200
    with engine.connect() as conn:
        titles = [m.title for m in inbox.messages(conn, subject_id=subject_id, dept_uscc=None)]
        actions = [
            r.action
            for r in conn.execute(
                select(audit_events.c.action)
                .where(audit_events.c.action.like("authorisation.%"))
                .order_by(audit_events.c.seq)
            )
        ]
    assert titles == ["书面查询授权已确认生效", "有单位登记了您的书面查询授权（待确认）"]
    assert actions == ["authorisation.record", "authorisation.confirm"]


def test_civil_servant_files_are_read_by_the_personnel_departments_only(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    dept = ORGANISATION_DEPT
    row = {
        "姓名": LI.name,
        "证件类型": "身份证",
        "证件号码": LI.id_number,
        "工作单位": dept.name,
        "单位统一社会信用代码": dept.uscc,
        "职务": "科员",
        "记录类型": "违法违纪",
        "记录内容": "（合成数据）违反工作纪律，诫勉谈话",
        "认定机关": dept.name,
        "认定机关统一社会信用代码": dept.uscc,
        "认定日期": "2026/03/15",
        "文书号": "濮组〔2026〕9号",
        "数据来源单位": dept.name,
        "数据来源单位统一社会信用代码": dept.uscc,
    }
    receipt = run(engine, catalog, write_csv(tmp_path / "g.csv", [row], GZRY_HEADERS), "GZRY", dept)
    assert receipt.new == 1, receipt.rejects
    with engine.connect() as conn:
        subject_id = int(find_subject(conn, LI.id_number)["id"])
    personnel = make_token(engine, catalog, "org.system", dept.uscc)
    samr = make_token(engine, catalog, "samr.system", SAMR.uscc)
    path = f"/api/v1/subjects/{subject_id}/records"
    params = {"dataset": "GZRY", "purpose": "干部考察"}
    read = client.get(path, params=params, headers=bearer(personnel))
    assert read.status_code == 200 and read.json()["total"] == 1
    assert _last_event(engine).purpose == "干部考察"
    refused = client.get(path, params=params, headers=bearer(samr))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "DATASET_NOT_PERMITTED"
    # nor does it show in the other department's whole list, the profile's counts or a report
    purpose = {"purpose": "干部考察"}
    everything = client.get(path, params=purpose, headers=bearer(samr)).json()
    assert everything["total"] == 0 and everything["items"] == []
    profile = client.get(f"/api/v1/subjects/{subject_id}", params=purpose, headers=bearer(samr))
    assert "GZRY" not in profile.json()["counts"]
