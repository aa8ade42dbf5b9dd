"""Schemathesis against the served OpenAPI document, on both databases, with its checks on:
generated requests, valid and invalid, to every operation, anonymous and with a department
system's token, must get answers the document declares — status code, content type, headers
and body schema — and no 500; invalid requests are refused, valid ones are never refused as
malformed (``REQUEST_INVALID``), and every refusal is the error envelope with a Chinese message.
Beside it: the document itself (security scheme, error answers, the catalogue's enumerations)
and 405 with ``Allow`` on every path."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import bearer, make_token
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.auths import AuthStorage
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as spec
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.settings import Settings
from xinyong.web.app import create_app

EXAMPLES = 5  # per operation, generation mode and caller
CJK = re.compile(r"[\u4e00-\u9fff]")

CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    spec.status_code_conformance,
    spec.content_type_conformance,
    spec.response_headers_conformance,
    spec.response_schema_conformance,
    spec.negative_data_rejection,
    spec.missing_required_header,
    spec.ignored_auth,
]


def chinese_refusals(response: Any, case: schemathesis.Case) -> str | None:
    """What the built-in checks do not ask: a refusal is the envelope with a Chinese message,
    and a request the document calls valid is never refused as malformed. (A valid request may
    still break a business rule — a search fragment of one character, a cursor never issued,
    a date range backwards — and get 400 with its own code; that is the declared 400.)"""
    if response.status_code < 400:
        return None
    error = response.json().get("error", {})
    if not CJK.search(error.get("message", "")):
        return f"{response.status_code} without a Chinese message: {response.text[:200]}"
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and error.get("code") == "REQUEST_INVALID":
        return f"a request valid by the document refused as malformed: {response.text[:300]}"
    return None


@pytest.fixture
def fuzz_app(web_settings: Settings, engine: Engine, catalog: Catalog) -> tuple[FastAPI, str]:
    run(engine, catalog, write_csv(web_settings.data_dir / "p.csv", [penalty(XINYUAN)]))
    token = make_token(engine, catalog, "fuzz-system", SAMR.uscc)
    return create_app(web_settings, engine=engine, catalog=catalog), token


def _schema(app: FastAPI, token: str | None) -> Any:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    if token is None:
        return schema, None
    storage = AuthStorage()

    @storage.auth()
    class DepartmentSystem:
        def get(self, case: Any, ctx: Any) -> str:
            return token

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema, storage


@dataclass
class Findings:
    calls: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def fail(self, key: str, text: str) -> None:
        self.failures[key] += 1
        self.examples.setdefault(key, text[:1500])


def _fuzz(operation: Any, mode: GenerationMode, storage: Any, found: Findings) -> None:
    """Generated cases of one operation in one mode; every failure is listed, none stops it."""
    key = f"{operation.label} [{mode.value}, {'token' if storage else 'anonymous'}]"

    @given(case=operation.as_strategy(generation_mode=mode, auth_storage=storage))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are listed whole
    )
    def call(case: schemathesis.Case) -> None:
        try:
            response = case.call()
        except Exception as exc:  # a 500 the test client raises
            found.fail(f"{key} raised {type(exc).__name__}", str(exc))
            return
        found.calls[operation.label] += 1
        problem = chinese_refusals(response, case)
        if problem:
            found.fail(key, problem)
        for check in CHECKS:
            try:
                case.validate_response(response, checks=[check])
            except BaseException as exc:  # schemathesis' failure group
                found.fail(key, f"{check.__name__}: {exc}")

    try:
        call()
    except BaseException as exc:
        found.fail(key, f"could not generate: {exc}")


def test_every_operation_keeps_its_contract(fuzz_app: tuple[FastAPI, str]) -> None:
    app, token = fuzz_app
    found = Findings()
    operations = set()
    for caller in (token, None):
        schema, storage = _schema(app, caller)
        for result in schema.get_all_operations():
            operation = result.ok()
            operations.add(operation.label)
            raw = operation.definition.raw
            # an operation that takes nothing has nothing to make invalid (GET /health)
            takes_input = bool(raw.get("parameters") or raw.get("requestBody"))
            _fuzz(operation, GenerationMode.POSITIVE, storage, found)
            if takes_input:
                _fuzz(operation, GenerationMode.NEGATIVE, storage, found)
    total = sum(found.calls.values())
    print(f"schemathesis: {len(operations)} operations, {total} cases, {len(CHECKS) + 1} checks")
    assert not found.failures, "\n\n".join(
        f"{k} ×{n}\n{found.examples[k]}" for k, n in found.failures.items()
    )
    assert len(operations) >= 34 and total >= 3 * EXAMPLES * len(operations), found.calls


def test_the_document_states_the_contract(client: TestClient, catalog: Catalog) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        **doc["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # the envelope instead
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert "security" in operation, where
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert answer["content"]["application/json"]["schema"] == envelope, where
            if operation["security"] == [{"bearer": []}]:
                assert {"401", "403"} <= set(operation["responses"]), where
    # who must authenticate: the public reads are open, the department's own data is not
    assert doc["paths"]["/api/v1/subjects"]["get"]["security"] == [{}, {"bearer": []}]
    assert doc["paths"]["/api/v1/batches"]["post"]["security"] == [{"bearer": []}]
    assert {"bearer": []} in doc["paths"]["/api/v1/cases"]["get"]["security"]
    # the enumerations and patterns the server enforces
    schemas = doc["components"]["schemas"]
    assert schemas["CheckRequest"]["properties"]["matter"]["enum"]
    assert "procurement" in schemas["CheckRequest"]["properties"]["matter"]["enum"]
    notice = schemas["NoticeRequest"]["properties"]
    assert "YZSX" in notice["dataset"]["enum"] and "XZCF" not in notice["dataset"]["enum"]
    kinds = next(b for b in notice["list_kind"]["anyOf"] if b.get("type") == "string")["enum"]
    assert sorted(kinds) == sorted(catalog.lists.kinds)
    params = {p["name"]: p for p in doc["paths"]["/api/v1/batches"]["get"]["parameters"]}
    dataset = next(b for b in params["dataset"]["schema"]["anyOf"] if b.get("type") == "string")
    assert sorted(dataset["enum"]) == sorted(catalog.datasets)
    publicity = doc["paths"]["/api/v1/publicity/{kind}"]["get"]["parameters"]
    kind = next(p for p in publicity if p["name"] == "kind")["schema"]
    assert kind["enum"] == ["xzxk", "xzcf"]
    dept = next(p for p in publicity if p["name"] == "dept")["schema"]["anyOf"][0]
    assert dept["pattern"].startswith("^[0-9A-HJ-NPQRTUWXY]{2}")


def test_unknown_values_are_refused_as_the_document_says(client: TestClient) -> None:
    for url in (
        "/api/v1/publicity/xzzz",
        "/api/v1/lists/grey",
        "/api/v1/publicity/xzcf?dept=not-a-code",
        "/api/v1/subjects?q=信远&szie=5",  # a misspelt parameter is not silently ignored
    ):
        answer = client.get(url)
        assert answer.status_code == 422, url
        problems = answer.json()["error"]["problems"]
        assert problems and all(CJK.search(p["reason"]) for p in problems), problems
    misspelt = client.get("/api/v1/subjects?q=信远&szie=5").json()["error"]
    assert misspelt["problems"] == [
        {"in": "query", "field": "szie", "code": "UNKNOWN_FIELD", "reason": "不是本接口的字段"}
    ]


def test_validation_problems_are_chinese_with_codes_and_paths(
    client: TestClient, fuzz_app: tuple[FastAPI, str]
) -> None:
    _, token = fuzz_app
    answer = client.post(
        "/api/v1/checks/1/feedback",
        headers=bearer(token),
        json={"items": [{"measure_id": "X", "applied": "maybe", "action_date": "昨天"}]},
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "REQUEST_INVALID"
    assert error["message"].startswith("参数有误：items.0.applied")
    by_field = {p["field"]: p for p in error["problems"]}
    assert by_field["items.0.applied"] == {
        "in": "body",
        "field": "items.0.applied",
        "code": "NOT_BOOLEAN",
        "reason": "应为 true 或 false",
    }
    assert by_field["items.0.action_date"]["code"] == "NOT_DATE"
    for p in error["problems"]:  # no pydantic English ("Input should be a valid boolean")
        assert CJK.search(p["reason"]) and not re.search(r"Input|should|valid", p["reason"])
    too_big = client.get("/api/v1/subjects?q=信远&size=1000").json()["error"]["problems"][0]
    assert (too_big["code"], too_big["field"], too_big["in"]) == ("TOO_LARGE", "size", "query")
    assert "不能大于" in too_big["reason"]


def test_405_names_every_allowed_method(client: TestClient, fuzz_app: tuple[FastAPI, str]) -> None:
    _, token = fuzz_app  # with a token: the request gate lets a write through to routing
    doc = client.get("/api/v1/openapi.json").json()
    templates = {re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"): p for p in doc["paths"]}
    for path in doc["paths"]:
        url = re.sub(r"\{[^}]+\}", "1", path)
        # /api/v1/lists/notices is also /api/v1/lists/{kind}: every template the URL matches
        routed = {m.upper() for t, p in templates.items() if t.match(url) for m in doc["paths"][p]}
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - routed:
            answer = client.request(method, url, headers=bearer(token))
            assert answer.status_code == 405, (method, url, answer.status_code)
            allowed = {m.strip() for m in answer.headers["Allow"].split(",")}
            assert allowed == routed | ({"HEAD"} if "GET" in routed else set()), (method, url)
            assert answer.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
