"""The reconciliation service against the protocol's own schemas and example batches (W3C
Reconciliation Service API 0.2, ``tests/fixtures/reconciliation``) and against real ways of
writing the same company: Chinese or ASCII brackets, full or half width, the division in front
or in brackets, 有限责任公司 for 有限公司, a former name (曾用名), a code; on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import (
    FRJC_HEADERS,
    HENGDA,
    LONGDU,
    WANG,
    XINYUAN,
    penalty,
    registration,
    run,
    write_csv,
)
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "reconciliation"


def _registry() -> Registry[Any]:
    resources = []
    for path in (SPEC / "schemas").glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7))
        )
    return Registry().with_resources(resources)


def _validator(name: str) -> Draft7Validator:
    schema = json.loads((SPEC / "schemas" / name).read_text(encoding="utf-8"))
    return Draft7Validator(schema, registry=_registry())


def _examples(kind: str, validity: str) -> list[Path]:
    return sorted((SPEC / "examples" / kind / validity).glob("*.json"))


@pytest.fixture
def subjects_in(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    """Three companies with registrations (one with two former names) and a person."""
    frjc = write_csv(
        tmp_path / "frjc.csv",
        [
            registration(XINYUAN, 曾用名="濮阳市华龙区鑫源商行；濮阳市鑫源商贸部"),
            registration(HENGDA),
            registration(LONGDU),
        ],
        FRJC_HEADERS,
    )
    assert run(engine, catalog, frjc, dataset="FRJC").rejected == 0
    person = write_csv(tmp_path / "p.csv", [penalty(WANG, "濮市监罚决字〔2023〕00177号")])
    assert run(engine, catalog, person).rejected == 0


def _ask(client: TestClient, batch: dict[str, Any], post: bool = True) -> Any:
    data = {"queries": json.dumps(batch, ensure_ascii=False)}
    if post:
        return client.post("/reconcile", data=data)
    return client.get("/reconcile", params=data)


def test_the_manifest_is_valid(client: TestClient) -> None:
    # the schema itself is checked on the protocol's own example answer first
    results = _validator("reconciliation-result-batch.json")
    for example in _examples("reconciliation-result-batch", "valid"):
        results.validate(json.loads(example.read_text(encoding="utf-8")))
    manifest = client.get("/reconcile").json()
    _validator("manifest.json").validate(manifest)
    assert manifest["versions"] == ["0.2"]
    assert manifest["view"]["url"].endswith("/subjects/{{id}}")


@pytest.mark.usefixtures("subjects_in")
@pytest.mark.parametrize("post", [True, False])
def test_the_protocols_example_batches(client: TestClient, post: bool) -> None:
    queries = _validator("reconciliation-query-batch.json")
    results = _validator("reconciliation-result-batch.json")
    for example in _examples("reconciliation-query-batch", "valid"):
        batch = json.loads(example.read_text(encoding="utf-8"))
        queries.validate(batch)
        response = _ask(client, batch, post)
        assert response.status_code == 200, (example.name, response.text)
        answer = response.json()
        results.validate(answer)
        assert set(answer) == set(batch)
    for example in _examples("reconciliation-query-batch", "invalid"):
        batch = json.loads(example.read_text(encoding="utf-8"))
        assert not queries.is_valid(batch)
        response = _ask(client, batch, post)
        assert response.status_code == 400, example.name
        assert response.json()["error"]["code"] == "RECONCILE_QUERY_INVALID"


def _best(client: TestClient, query: str, **props: str) -> dict[str, Any]:
    batch = {
        "q0": {
            "query": query,
            "properties": [{"pid": k, "v": v} for k, v in props.items()],
        }
    }
    response = _ask(client, batch)
    assert response.status_code == 200, response.text
    _validator("reconciliation-result-batch.json").validate(response.json())
    result = response.json()["q0"]["result"]
    assert result, f"no candidate for {query}"
    return dict(result[0])


def _features(candidate: dict[str, Any]) -> dict[str, Any]:
    return {f["id"]: f["value"] for f in candidate["features"]}


@pytest.mark.usefixtures("subjects_in")
def test_real_ways_of_writing_a_name(client: TestClient) -> None:
    exact = _best(client, "濮阳市华龙区鑫源商贸有限公司")
    assert (exact["name"], exact["score"], exact["match"]) == (XINYUAN.name, 100, True)
    assert _features(exact) == {"name_exact": True}
    # spaces and full-width forms are normalised away: still exact
    assert _best(client, " 濮阳县龙都石油机械有限责任公司　")["name"] == LONGDU.name
    # a former name (曾用名)
    former = _best(client, "濮阳市鑫源商贸部")
    assert former["name"] == XINYUAN.name and former["score"] == 95 and former["match"]
    assert "曾用名" in former["description"] and _features(former) == {"former_name": True}
    # the division in brackets after the 字号, half-width brackets, 有限责任公司
    for variant in (
        "鑫源商贸（濮阳）有限公司",
        "鑫源商贸(濮阳市华龙区)有限责任公司",
        "华龙区鑫源商贸有限公司",
    ):
        fuzzy = _best(client, variant)
        assert fuzzy["name"] == XINYUAN.name, variant
        assert 80 <= fuzzy["score"] < 90 and not fuzzy["match"], variant
        assert _features(fuzzy)["name_similarity"] >= 0.9
        assert "名称主干" in fuzzy["description"]
    # a code decides, whatever the name says
    coded = _best(client, "某某公司", code=HENGDA.uscc)
    assert coded["name"] == HENGDA.name and coded["match"] and _features(coded)["code_match"]
    # the district: registered there adds, elsewhere takes away
    here = _best(client, "鑫源商贸（濮阳）有限公司", district="华龙区")
    there = _best(client, "鑫源商贸（濮阳）有限公司", district="410922")
    assert _features(here)["district_match"] is True
    assert _features(there)["district_match"] is False
    assert here["score"] > there["score"]


@pytest.mark.usefixtures("subjects_in")
def test_persons_are_never_candidates_and_unknowns_get_nothing(client: TestClient) -> None:
    answer = _ask(client, {"q0": {"query": WANG.name}, "q1": {"query": "完全不存在的某某有限公司"}})
    assert answer.json() == {"q0": {"result": []}, "q1": {"result": []}}
    by_id = _ask(
        client, {"q0": {"query": "", "properties": [{"pid": "code", "v": WANG.id_number}]}}
    )
    assert by_id.json() == {"q0": {"result": []}}


@pytest.mark.usefixtures("subjects_in")
def test_preview_and_suggest(client: TestClient) -> None:
    suggest = client.get("/reconcile/suggest/entity", params={"prefix": "鑫源"}).json()
    _validator("suggest-entities-response.json").validate(suggest)
    assert [s["name"] for s in suggest["result"]] == [XINYUAN.name]
    none = client.get("/reconcile/suggest/entity", params={"prefix": WANG.name}).json()
    assert none == {"result": []}
    _validator("suggest-properties-response.json").validate(
        client.get("/reconcile/suggest/property", params={"prefix": "代码"}).json()
    )
    _validator("suggest-types-response.json").validate(
        client.get("/reconcile/suggest/type", params={"prefix": ""}).json()
    )
    sid = suggest["result"][0]["id"]
    preview = client.get("/reconcile/preview", params={"id": sid})
    assert preview.status_code == 200 and XINYUAN.uscc in preview.text
    assert "濮阳市鑫源商贸部" in preview.text
    assert client.get("/reconcile/preview", params={"id": "999999"}).status_code == 404
