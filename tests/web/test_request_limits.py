"""Refuse before working (issue 11): request bodies capped per route (413, by Content-Length
and by the bytes of a chunked body), and API writes without a valid token answered 401
before their body is read. On SQLite and PostgreSQL through the real application."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, write_csv
from fixtures.web import TESTER, bearer, csrf_of, login, make_account, make_token
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.accounts.tokens import find_token, revoke_token
from xinyong.batches.models import batches
from xinyong.catalog.loader import Catalog
from xinyong.checks.models import checks
from xinyong.settings import Settings
from xinyong.web.app import create_app

_MIB = 1 << 20


def _error(response: object) -> dict[str, str]:
    body: dict[str, dict[str, str]] = response.json()  # type: ignore[attr-defined]
    return body["error"]


def _stored(engine: Engine, data_dir: Path) -> tuple[int, list[Path]]:
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(batches)).scalar_one()
    uploads = data_dir / "uploads"
    return count, sorted(uploads.iterdir()) if uploads.exists() else []


def test_a_json_body_over_the_cap_is_413_before_it_is_read(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    body = json.dumps({"matter": "X", "subject_code": XINYUAN.uscc, "pad": "x" * (2 * _MIB)})
    response = client.post(
        "/api/v1/checks",
        content=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    error = _error(response)
    assert error["code"] == "BODY_TOO_LARGE" and "最多 1 MB" in error["message"]


def test_a_chunked_json_body_is_cut_off_once_it_passes_the_cap(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the gate has to count
        yield b'{"matter": "X", "pad": "'
        for _ in range(40):
            yield b"x" * (64 * 1024)
        yield b'"}'

    response = client.post(
        "/api/v1/checks",
        content=chunks(),
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert _error(response)["code"] == "BODY_TOO_LARGE"


def test_a_small_body_still_passes(client: TestClient, engine: Engine, catalog: Catalog) -> None:
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    response = client.post(
        "/api/v1/checks", json={"matter": "X" * 41, "subject_code": "1"}, headers=bearer(token)
    )
    assert response.status_code == 422  # read and validated, not refused for its size


def test_the_delivery_cap_is_a_setting_and_a_refused_upload_leaves_nothing(
    web_settings: Settings, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    settings = web_settings.model_copy(update={"max_delivery_bytes": 4096})
    path = write_csv(
        tmp_path / "处罚.csv",
        [penalty(XINYUAN, f"濮市监罚决字〔2024〕{n:05d}号") for n in range(200)],
    )
    big = path.read_bytes() + b"\n" * (80 * 1024)  # past the cap and its form slack
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    app = create_app(settings, engine=engine, catalog=catalog)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/api/v1/batches",
            data={"dataset": "XZCF"},
            files={"file": ("处罚.csv", big, "text/csv")},
            headers=bearer(token),
        )
        assert response.status_code == 413, response.text
        assert _error(response)["code"] == "BODY_TOO_LARGE"
        assert "报送文件" in _error(response)["message"]

        login(client, "samr.clerk")
        home = client.get("/dept")
        page = client.post(
            "/dept/batches",
            data={"csrf_token": csrf_of(home.text), "dataset": "XZCF"},
            files={"file": ("处罚.csv", big, "text/csv")},
        )
        assert page.status_code == 413
        assert "text/html" in page.headers["content-type"] and "BODY_TOO_LARGE" in page.text
    assert _stored(engine, settings.data_dir) == (0, [])


def _broken_multipart() -> tuple[bytes, dict[str, str]]:
    # a cut multipart body without the route's fields: whoever reads it answers 400 or 422,
    # so a 401 proves the refusal came before the body was read
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n' + (
        b"x" * 4096
    )
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


def test_an_anonymous_upload_is_refused_before_its_body_is_read(
    client: TestClient, engine: Engine, web_settings: Settings
) -> None:
    body, headers = _broken_multipart()
    for path in ("/api/v1/batches", "/api/v1/checks/bulk"):
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert _error(response)["code"] == "TOKEN_REQUIRED"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _stored(engine, web_settings.data_dir) == (0, [])


def test_an_invalid_token_is_refused_before_the_body_is_read(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_token(engine, catalog, "samr.system", SAMR.uscc)
    body, headers = _broken_multipart()
    for auth in ("Bearer xy_not-a-token", "Basic c2FtcjpwdzEyMzQ1Ng=="):
        response = client.post(
            "/api/v1/batches", content=body, headers={**headers, "Authorization": auth}
        )
        assert response.status_code == 401, response.text
        assert _error(response)["code"] == "TOKEN_INVALID"


def test_a_valid_token_still_reaches_the_route(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    body, headers = _broken_multipart()
    response = client.post("/api/v1/batches", content=body, headers={**headers, **bearer(token)})
    assert response.status_code in (400, 422)  # past the gate: the route refuses the body


def test_a_public_api_write_needs_no_token(app: FastAPI, client: TestClient) -> None:
    response = client.post("/api/v1/reports", json={"subject_id": 999_999})
    assert response.status_code == 404


def test_a_token_revoked_after_it_passed_the_gate_is_refused_by_the_route(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    # the gate lets a token it found valid pass for a few seconds without another look; the
    # route still resolves the token in its own transaction, so a revocation holds at once
    token = make_token(engine, catalog, "samr.system", SAMR.uscc)
    check = {"subject_code": XINYUAN.uscc, "matter": "procurement"}
    assert client.post("/api/v1/checks", json=check, headers=bearer(token)).status_code in (
        201,
        404,
    )
    with engine.begin() as conn:
        revoke_token(conn, find_token(conn, token).id, by=TESTER)
    response = client.post("/api/v1/checks", json=check, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert _error(response)["code"] == "TOKEN_INVALID"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(checks)).scalar_one() <= 1
