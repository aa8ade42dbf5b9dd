"""查询事由 (issue 11 item 5): a government reader states a purpose before a subject's
non-public information is shown to it, on the API, the portal's page and the command line.
Without one it is shown what the public sees, nothing non-public leaks and nothing is audited;
with one it sees what its role opens and the view is exactly one audit event carrying the
purpose, which the subject then reads in its query history (Henan art. 40)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evaluation.rows import TODAY, company, listing
from fastapi.testclient import TestClient
from fixtures.deliveries import LI, NDRC, XINYUAN
from fixtures.web import bearer, login, make_account, make_token
from reports.data import Loaded, load
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from xinyong.accounts.purposes import purpose_choices, stated_purpose
from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.cli import app as cli_app
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import run_model
from xinyong.records.models import records

GRADE = "纳税信用等级"  # NSXY, 政务共享: the government's, never the public's


@pytest.fixture
def loaded(engine: Engine, catalog: Catalog, tmp_path: Path) -> Loaded:
    return load(engine, catalog, tmp_path / "deliveries")


def _reads(engine: Engine, subject_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_events)
                .where(
                    audit_events.c.subject_id == subject_id,
                    audit_events.c.action == "subject.read",
                )
                .order_by(audit_events.c.seq)
            )
        )


# -- the purpose itself ---------------------------------------------------------------------


def test_a_purpose_is_normalised_and_must_say_something(catalog: Catalog) -> None:
    assert stated_purpose(None) is None and stated_purpose("   ") is None
    assert stated_purpose(" 执法\t 检查 ") == "执法 检查"
    assert stated_purpose("日常\u200b监管\u202e") == "日常监管"  # no invisible characters
    assert stated_purpose("其他", "信用贷款贴息资格审核") == "信用贷款贴息资格审核"
    assert stated_purpose("", "招投标资格审查") == "招投标资格审查"
    assert stated_purpose("行政审批", "") == "行政审批"
    for said_nothing in ("其他", "查", "1234", "……", "x" * 101):
        with pytest.raises(Exception) as refused:
            stated_purpose(said_nothing)
        assert getattr(refused.value, "code", None) == "PURPOSE_INVALID", said_nothing
    choices = purpose_choices(catalog.root)
    assert choices.common == ("行政审批", "日常监管", "执法检查", "评优评先", "招标采购")
    assert choices.other == "其他"


# -- the API ------------------------------------------------------------------------------------


def test_api_without_a_purpose_answers_the_public_view(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    company = loaded.company_id
    profile = client.get(f"/api/v1/subjects/{company}", headers=bearer(token))
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert body["purpose_required"] is True and body["purpose"] is None
    assert "NSXY" not in body["counts"] and "XZCF" in body["counts"]
    listed = client.get(f"/api/v1/subjects/{company}/records", headers=bearer(token)).json()
    assert listed["purpose_required"] is True
    assert listed["items"] and all(r["dataset"] != "NSXY" for r in listed["items"])
    assert GRADE not in profile.text + str(listed)
    # naming a dataset only a purpose opens: a clear refusal, not an empty page
    named = client.get(
        f"/api/v1/subjects/{company}/records", params={"dataset": "NSXY"}, headers=bearer(token)
    )
    assert named.status_code == 400
    error = named.json()["error"]
    assert error["code"] == "PURPOSE_REQUIRED" and "查询事由" in error["message"]
    # a person shows the public nothing: the purpose is asked for, not "not found"
    person = client.get(f"/api/v1/subjects/{loaded.person_id}", headers=bearer(token))
    assert person.status_code == 400
    assert person.json()["error"]["code"] == "PURPOSE_REQUIRED"
    assert LI.id_number not in person.text and LI.name not in person.text
    # an empty purpose is no purpose; one that says nothing is refused
    blank = client.get(
        f"/api/v1/subjects/{company}", params={"purpose": "  "}, headers=bearer(token)
    )
    assert blank.json()["purpose_required"] is True
    for bad in ("其他", "1", "……"):
        refused = client.get(
            f"/api/v1/subjects/{company}", params={"purpose": bad}, headers=bearer(token)
        )
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["code"] == "PURPOSE_INVALID", bad
    too_long = client.get(
        f"/api/v1/subjects/{company}", params={"purpose": "查" * 101}, headers=bearer(token)
    )
    assert too_long.status_code == 422  # the declared bound (maxLength 100)
    assert _reads(engine, company) == [] and _reads(engine, loaded.person_id) == []


def test_api_with_a_purpose_shows_and_audits_it_once(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    company = loaded.company_id
    params = {"purpose": " 日常监管 "}
    profile = client.get(f"/api/v1/subjects/{company}", params=params, headers=bearer(token))
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert body["purpose_required"] is False and body["purpose"] == "日常监管"
    assert body["counts"]["NSXY"] == 1
    [event] = _reads(engine, company)
    assert (event.purpose, event.role, event.dept_uscc) == ("日常监管", "dept_system", NDRC.uscc)
    assert "NSXY" in event.detail["datasets"]

    grade = client.get(
        f"/api/v1/subjects/{company}/records",
        params={"dataset": "NSXY", "purpose": "执法检查"},
        headers=bearer(token),
    )
    assert grade.status_code == 200, grade.text
    [record] = grade.json()["items"]
    assert record["dataset"] == "NSXY"
    assert [e.purpose for e in _reads(engine, company)] == ["日常监管", "执法检查"]

    person = client.get(
        f"/api/v1/subjects/{loaded.person_id}", params=params, headers=bearer(token)
    )
    assert person.status_code == 200 and person.json()["subject"]["id_number"] == LI.id_number
    [seen] = _reads(engine, loaded.person_id)
    assert seen.purpose == "日常监管"


def test_the_public_and_the_subject_need_no_purpose(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    company = loaded.company_id
    anonymous = client.get(f"/api/v1/subjects/{company}").json()
    assert anonymous["purpose_required"] is False and "NSXY" not in anonymous["counts"]
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=company)
    login(client, "xinyuan")
    own = client.get(f"/subjects/{company}", params={"tab": "守信激励"})
    assert own.status_code == 200
    assert GRADE in own.text and 'name="purpose"' not in own.text
    assert _reads(engine, company) == []


# -- the portal's page --------------------------------------------------------------------------


def test_the_page_asks_a_clerk_for_the_purpose_first(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    login(client, "ndrc.clerk")
    company = loaded.company_id
    first = client.get(f"/subjects/{company}?tab=守信激励")
    assert first.status_code == 200
    assert 'name="purpose"' in first.text and "查询事由" in first.text
    assert f'action="/subjects/{company}"' in first.text and 'value="守信激励"' in first.text
    for choice in ("行政审批", "日常监管", "执法检查", "评优评先", "招标采购", "其他"):
        assert f'value="{choice}"' in first.text
    assert GRADE not in first.text  # the non-public tab's records are not shown yet
    assert XINYUAN.name in first.text  # the public view is
    assert _reads(engine, company) == []

    shown = client.get(f"/subjects/{company}", params={"tab": "守信激励", "purpose": "日常监管"})
    assert shown.status_code == 200
    assert GRADE in shown.text and 'name="purpose"' not in shown.text
    assert "查询事由：<strong>日常监管</strong>" in shown.text
    assert "purpose=%E6%97%A5%E5%B8%B8%E7%9B%91%E7%AE%A1" in shown.text  # kept in the tab links
    [event] = _reads(engine, company)  # one event for the whole view
    assert event.purpose == "日常监管" and event.role == "clerk"

    written = client.get(
        f"/subjects/{company}", params={"purpose": "其他", "other": "信用贷款贴息资格审核"}
    )
    assert written.status_code == 200
    assert [e.purpose for e in _reads(engine, company)][-1] == "信用贷款贴息资格审核"

    unsaid = client.get(f"/subjects/{company}", params={"tab": "守信激励", "purpose": "其他"})
    assert unsaid.status_code == 200
    assert "须写明具体的查询事由" in unsaid.text and GRADE not in unsaid.text
    assert len(_reads(engine, company)) == 2


def test_the_page_of_a_person_asks_the_purpose_before_anything(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    make_account(engine, catalog, "ndrc.clerk", Role.CLERK, dept_uscc=NDRC.uscc)
    login(client, "ndrc.clerk")
    asked = client.get(f"/subjects/{loaded.person_id}")
    assert asked.status_code == 200
    assert f'action="/subjects/{loaded.person_id}"' in asked.text
    assert LI.name not in asked.text and LI.id_number[-4:] not in asked.text
    assert _reads(engine, loaded.person_id) == []
    shown = client.get(f"/subjects/{loaded.person_id}", params={"purpose": "执法检查"})
    assert shown.status_code == 200 and LI.name in shown.text
    [event] = _reads(engine, loaded.person_id)
    assert event.purpose == "执法检查"
    # the anonymous public still finds no such person
    client.post("/logout", data={}, follow_redirects=False)
    client.cookies.clear()
    assert client.get(f"/subjects/{loaded.person_id}").status_code == 404


def test_the_subject_sees_who_looked_and_why(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    company = loaded.company_id
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    client.get(f"/api/v1/subjects/{company}", params={"purpose": "评优评先"}, headers=bearer(token))
    client.get(f"/api/v1/subjects/{company}", headers=bearer(token))  # public view: not a query
    make_account(engine, catalog, "xinyuan", Role.SUBJECT, subject_id=company)
    login(client, "xinyuan")
    me = client.get("/me")
    assert me.status_code == 200
    history = me.text.split('id="queries-h"')[1].split("</section>")[0]
    assert "评优评先" in history and NDRC.name in history
    assert history.count("<tr><td>") == 1


# -- the command line ---------------------------------------------------------------------------


def test_cli_subject_takes_a_purpose_and_is_audited(
    cli: None, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["subject", XINYUAN.uscc, "--json"])
    assert refused.exit_code == 2, refused.output
    assert "PURPOSE_REQUIRED" in refused.stdout
    unsaid = runner.invoke(cli_app, ["subject", XINYUAN.uscc, "--purpose", "其他"])
    assert unsaid.exit_code == 2 and "PURPOSE_INVALID" in unsaid.stderr
    assert _reads(engine, loaded.company_id) == []

    shown = runner.invoke(cli_app, ["subject", XINYUAN.uscc, "--purpose", "执法检查", "--json"])
    assert shown.exit_code == 0, shown.output
    assert "NSXY" in shown.stdout
    [event] = _reads(engine, loaded.company_id)
    assert (event.purpose, event.role) == ("执法检查", "operator")
    assert event.actor.startswith("cli:")
    assert sorted(event.detail["datasets"]) == ["FRJC", "NSXY", "XZCF"]

    with engine.connect() as conn:
        grade_id = conn.execute(
            select(records.c.id).where(
                records.c.subject_id == loaded.company_id, records.c.dataset == "NSXY"
            )
        ).scalar_one()
    whole = runner.invoke(cli_app, ["records", "show", str(grade_id)])
    assert whole.exit_code == 2 and "PURPOSE_REQUIRED" in whole.stderr
    whole = runner.invoke(cli_app, ["records", "show", str(grade_id), "--purpose", "评优评先"])
    assert whole.exit_code == 0, whole.output
    with engine.connect() as conn:
        read = conn.execute(
            select(audit_events).where(audit_events.c.action == "record.read")
        ).one()
    assert (read.purpose, read.subject_id, read.record_id) == (
        "评优评先",
        loaded.company_id,
        grade_id,
    )


# -- a grade explained ----------------------------------------------------------------------------


def test_a_grade_is_explained_to_government_with_a_purpose_only(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    model = model_book(catalog).get("QYGGXY")
    with engine.begin() as conn:
        listed = company(conn)
        listing(conn, listed, "YZSX", "HN33")
        run_model(conn, catalog, model, as_of=TODAY, actor="t")
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    path = f"/api/v1/subjects/{listed}/evaluation/QYGGXY"
    public = client.get(path).json()
    plain = client.get(path, headers=bearer(token))
    assert plain.status_code == 200, plain.text
    assert plain.json() == public  # what the model publishes, no records behind it
    assert not any(i.get("records") for i in public.get("indicators", []))
    assert _reads(engine, listed) == []
    whole = client.get(path, params={"purpose": "招标采购"}, headers=bearer(token))
    assert whole.status_code == 200, whole.text
    assert any(i.get("records") for i in whole.json()["indicators"])
    [event] = _reads(engine, listed)
    assert (event.purpose, event.detail["evaluation"]) == ("招标采购", "QYGGXY")


def test_a_name_search_shows_government_no_whole_id_number(
    client: TestClient, engine: Engine, catalog: Catalog, loaded: Loaded
) -> None:
    token = make_token(engine, catalog, "ndrc.system", NDRC.uscc)
    by_name = client.get("/api/v1/subjects", params={"q": LI.name}, headers=bearer(token))
    assert by_name.status_code == 200, by_name.text
    [item] = [i for i in by_name.json()["items"] if i["subject_id"] == loaded.person_id]
    assert item["id_number"] == LI.id_number[:6] + "********" + LI.id_number[-4:]
    assert LI.id_number not in by_name.text
    # typed whole (and audited as such), it is shown whole
    typed = client.get("/api/v1/subjects", params={"q": LI.id_number}, headers=bearer(token))
    assert [i["id_number"] for i in typed.json()["items"]] == [LI.id_number]
