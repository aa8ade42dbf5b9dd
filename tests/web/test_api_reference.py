"""The department system's API (issue 14, item 5): the catalogue it works with (datasets,
business matters, the measures list, list kinds) as typed lists, and one way to name a subject
— any of its codes — with the internal ``subject_id`` still accepted (deprecated)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, WANG, XINYUAN, penalty, run, write_csv
from fixtures.web import bearer, make_token
from lists.rows import NDRC
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.measures.catalog import load_measures, measures_dir


def test_the_catalogue_lists(client: TestClient, catalog: Catalog) -> None:
    datasets = client.get("/api/v1/datasets").json()["items"]
    assert {d["code"] for d in datasets} == set(catalog.datasets)
    xzcf = next(d for d in datasets if d["code"] == "XZCF")
    assert xzcf["name"] == catalog.datasets["XZCF"].name and xzcf["disclosure"] == "公开公示"
    assert {i["code"] for i in xzcf["items"]} == {i.code for i in catalog.datasets["XZCF"].items}

    measures = load_measures(measures_dir(catalog), catalog)
    matters = client.get("/api/v1/matters").json()["items"]
    assert {m["code"] for m in matters} == {
        m.code for m in measures.matters.values() if not m.retired
    }
    assert next(m for m in matters if m["code"] == "procurement")["name"] == "政府采购"

    chosen = client.get("/api/v1/measures?matter=procurement").json()["items"]
    expected = {m.id for m in measures.measures.values() if "procurement" in m.matters}
    assert {m["id"] for m in chosen} == expected and expected
    assert all(m["kind_label"] in ("激励", "惩戒") for m in chosen)
    assert len(client.get("/api/v1/measures").json()["items"]) == len(measures.measures)
    unknown = client.get("/api/v1/measures?matter=nothing")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "MATTER_UNKNOWN"

    kinds = client.get("/api/v1/list-kinds").json()["items"]
    assert {k["code"] for k in kinds} == set(catalog.lists.kinds)
    assert all(k["color"] in ("red", "black") and k["basis"] for k in kinds)


def test_a_report_names_its_subject_by_any_code(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(
        engine,
        catalog,
        write_csv(
            tmp_path / "p.csv", [penalty(XINYUAN), penalty(WANG, wsh="濮市监罚决字〔2023〕00102号")]
        ),
    )
    by_uscc = client.post("/api/v1/reports", json={"subject_code": XINYUAN.uscc})
    assert by_uscc.status_code == 201, by_uscc.text
    subject_id = by_uscc.json()["subject_id"]
    # the 组织机构代码 inside the USCC names the same organisation
    by_org = client.post("/api/v1/reports", json={"subject_code": XINYUAN.uscc[8:17]})
    assert by_org.status_code == 201 and by_org.json()["subject_id"] == subject_id
    # the internal id still works for existing clients (deprecated in the document)
    old = client.post("/api/v1/reports", json={"subject_id": subject_id})
    assert old.status_code == 201 and old.json()["subject_id"] == subject_id
    doc = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ReportRequest"]
    assert doc["properties"]["subject_id"]["deprecated"] is True

    # a person's ID number: the same refusal whether or not the person is stored
    for code in (WANG.id_number, "410902197803140011"):
        refused = client.post("/api/v1/reports", json={"subject_code": code})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "REPORT_ORGANISATIONS_ONLY"
    missing = client.post("/api/v1/reports", json={"subject_code": HENGDA.uscc})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SUBJECT_NOT_FOUND"
    nothing = client.post("/api/v1/reports", json={})
    assert nothing.status_code == 400 and nothing.json()["error"]["code"] == "SUBJECT_REQUIRED"
    flag = client.post("/api/v1/reports", json={"subject_id": True})  # JSON true is not 1
    assert flag.status_code == 422


def test_a_prior_notice_names_its_subject_by_code(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN)]))
    ndrc = bearer(make_token(engine, catalog, "ndrc.system", NDRC.uscc))
    body = {
        "dataset": "YZSX",
        "basis": "《河南省社会信用条例》第二十八条",
        "reasons": "拒不履行生效行政处罚决定",
        "served_on": "2026-12-01",
    }
    made = client.post(
        "/api/v1/lists/notices", headers=ndrc, json=body | {"subject_code": XINYUAN.uscc}
    )
    assert made.status_code == 201, made.text
    # an unknown internal id was a foreign-key failure (500); now it is a 404
    unknown = client.post("/api/v1/lists/notices", headers=ndrc, json=body | {"subject_id": 999999})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "SUBJECT_NOT_FOUND"
