"""A check a clerk can read (issue 14 item 2): the subject named; each hit with its list kind,
designating department, dates as people write them and the measures it triggers; each measure
saying which entry it is for; no feedback chosen in advance; a name typed instead of a code
offers candidates to pick from; a code nobody has comes back on the form. A responsible
person's check names the organisation (HN-Reg art. 35)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, XINYUAN, make_id
from fixtures.web import csrf_of, login, make_account
from lists.rows import deliver, headers, list_row
from sqlalchemy import Engine

from xinyong.accounts.roles import Role
from xinyong.catalog.loader import Catalog
from xinyong.sample.datasets import Dept

HRSS = Dept("11410900PY000009XF", "濮阳市人力资源和社会保障局")
# synthetic (no real person's number): the company's legal representative
LIU_ID = make_id("410902", date(1975, 6, 1), 317)


def _listed(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    wage = list_row(
        headers(catalog, "YZSX"),
        XINYUAN,
        "濮人社信〔2026〕7号",
        HRSS,
        listed_on="2026-03-02",
        valid_until="2029-03-01",
        MD_MDLB="WAGE",
        MD_ZRR_ZJLX="身份证",
        MD_ZRR_ZJHM=LIU_ID,
    )
    assert deliver(engine, catalog, tmp_path, "YZSX", [wage], dept=HRSS).rejected == 0


def _check(client: TestClient, subject: str, matter: str = "procurement") -> str:
    home = client.get("/checks")
    ran = client.post(
        "/checks",
        data={"csrf_token": csrf_of(home.text), "subject": subject, "matter": matter},
        follow_redirects=False,
    )
    assert ran.status_code == 303, ran.text
    page = client.get(ran.headers["location"])
    assert page.status_code == 200
    return page.text


def test_the_check_names_the_subject_the_list_and_why_each_measure_applies(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _listed(engine, catalog, tmp_path)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    text = _check(client, XINYUAN.uscc)
    assert "<h1>核查 " in text and f"：{XINYUAN.name}</h1>" in text
    assert f"（{XINYUAN.uscc}）" in text
    assert "拖欠农民工工资失信联合惩戒对象名单" in text  # the list kind by name
    assert "严重失信主体名单" in text  # its class
    assert HRSS.name in text and HRSS.uscc not in text  # the designating department by name
    assert "2026年3月2日" in text and "2029年3月1日" in text
    # each hit names the measures it triggers, each measure the entry it is for
    hit = text[text.index('class="card hit"') : text.index("适用的措施与反馈")]
    assert "触发的措施" in hit and "农民工" in hit
    assert "因：拖欠农民工工资失信联合惩戒对象名单" in text
    # nothing is chosen for the clerk: no pre-checked outcome, no pre-filled date
    assert " checked" not in text
    dates = re.findall(r'<input id="date-\d+" name="action_date"[^>]*>', text)
    assert dates and all("value=" not in d and "required" in d for d in dates)
    assert all(
        "required" in r
        for r in re.findall(r'<input type="radio" name="applied" value="yes"[^>]*>', text)
    )


def test_a_responsible_person_s_check_names_the_organisation(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _listed(engine, catalog, tmp_path)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    text = _check(client, LIU_ID)
    assert f"：{XINYUAN.legal_rep}</h1>" in text
    assert f"作为<strong>{XINYUAN.name}</strong>（{XINYUAN.uscc}）的法定代表人" in text
    assert "第三十五条" in text


def test_a_name_offers_candidates_and_a_bad_code_comes_back_on_the_form(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _listed(engine, catalog, tmp_path)
    make_account(engine, catalog, "env.clerk", Role.CLERK, dept_uscc=ENV.uscc)
    login(client, "env.clerk")
    home = client.get("/checks")
    fragment = XINYUAN.name[3:7]  # part of the name, not all of it
    offered = client.post(
        "/checks",
        data={"csrf_token": csrf_of(home.text), "subject": fragment, "matter": "procurement"},
    )
    assert offered.status_code == 200
    assert XINYUAN.name in offered.text and XINYUAN.uscc in offered.text
    assert "核查此主体" in offered.text
    # picking the candidate runs the check by its code
    form = re.search(r'<form method="post" action="/checks">(.*?)</form>', offered.text, re.S)
    assert form
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(1)))
    assert fields["subject"] == XINYUAN.uscc and fields["matter"] == "procurement"
    picked = client.post("/checks", data=fields, follow_redirects=False)
    assert picked.status_code == 303
    assert XINYUAN.name in client.get(picked.headers["location"]).text

    unknown = "91410900MA9XXXXX0P"
    refused = client.post(
        "/checks",
        data={"csrf_token": csrf_of(home.text), "subject": unknown, "matter": "procurement"},
    )
    assert refused.status_code in (400, 404)
    assert 'role="alert"' in refused.text and f'value="{unknown}"' in refused.text
    short = client.post(
        "/checks",
        data={"csrf_token": csrf_of(home.text), "subject": "鑫", "matter": "procurement"},
    )
    assert short.status_code == 400 and "至少 2 个" in short.text
