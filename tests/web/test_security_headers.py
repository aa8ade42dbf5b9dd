"""The security headers and the anonymous cookie of every answer (``xinyong.web.app``'s
``SecurityHeaders``): on pages, the API, static files, streamed answers and the request gate's
refusals; a header a route set itself is kept; the cookie's value reaches the routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.settings import Settings
from xinyong.web import app as web_app
from xinyong.web.app import create_app
from xinyong.web.deps import ANON_COOKIE

HEADERS = {name.lower(): value for name, value in web_app._SECURITY_HEADERS.items()}


def _has_security_headers(response: object, **own: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in {**HEADERS, **own}.items():
        assert headers.get_list(name) == [value], name


def _cookies(response: object) -> list[str]:
    return [
        c
        for c in response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
        if c.startswith(ANON_COOKIE + "=")
    ]


def _routes(app: FastAPI) -> None:
    """Routes of this test only: the anonymous id a route sees, a route setting its own
    headers, a streamed answer."""

    @app.get("/__test/anon")
    def anon(request: Request) -> dict[str, str]:
        return {"anon": request.state.anon_id}

    @app.get("/__test/own")
    def own() -> Response:
        return Response(
            "x",
            headers={"Content-Security-Policy": "sandbox", "X-Frame-Options": "SAMEORIGIN"},
        )

    @app.get("/__test/stream")
    def stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            for i in range(3):
                yield f"part {i}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")


def test_a_page_gets_the_headers_and_a_fresh_anonymous_cookie(
    app: FastAPI, client: TestClient
) -> None:
    _routes(app)
    r = client.get("/__test/anon")
    assert r.status_code == 200
    _has_security_headers(r)
    (cookie,) = _cookies(r)
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    # the cookie carries what the route saw as ``request.state.anon_id``
    assert r.json() == {"anon": value} and 20 < len(value) <= 64
    attributes = {a.strip() for a in cookie.split(";")[1:]}
    assert attributes == {"HttpOnly", "Path=/", "SameSite=lax"}  # no Secure outside production


def test_a_kept_cookie_reaches_the_route_and_is_not_set_again(
    app: FastAPI, client: TestClient
) -> None:
    _routes(app)
    client.cookies.set(ANON_COOKIE, "a" * 64)
    r = client.get("/__test/anon")
    assert r.json() == {"anon": "a" * 64} and not _cookies(r)
    _has_security_headers(r)
    # too long to be ours: replaced by a fresh one
    client.cookies.set(ANON_COOKIE, "b" * 65)
    r = client.get("/__test/anon")
    (cookie,) = _cookies(r)
    assert r.json()["anon"] != "b" * 65 and cookie.startswith(f"{ANON_COOKIE}={r.json()['anon']};")


def test_the_api_gets_the_headers_and_no_cookie(client: TestClient) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    _has_security_headers(r)
    assert not _cookies(r)


def test_a_header_the_route_set_is_kept(app: FastAPI, client: TestClient) -> None:
    _routes(app)
    r = client.get("/__test/own")
    _has_security_headers(
        r, **{"content-security-policy": "sandbox", "x-frame-options": "SAMEORIGIN"}
    )
    assert r.text == "x"


def test_streamed_and_file_answers_get_the_headers_and_their_whole_body(
    app: FastAPI, client: TestClient
) -> None:
    _routes(app)
    r = client.get("/__test/stream")
    assert r.status_code == 200 and r.text == "part 0\npart 1\npart 2\n"
    _has_security_headers(r)
    assert len(_cookies(r)) == 1
    css = client.get("/static/site.css")
    assert css.status_code == 200
    assert css.content == (Path(web_app.__file__).parent / "static" / "site.css").read_bytes()
    _has_security_headers(css)


def test_the_request_gates_refusals_carry_the_headers(client: TestClient) -> None:
    no_token = client.post("/api/v1/checks", json={"matter": "x", "subject_code": "1"})
    assert no_token.status_code == 401
    _has_security_headers(no_token)
    too_large = client.post(
        "/api/v1/checks",
        content=b"{}",
        headers={"Content-Length": str(10**9), "Content-Type": "application/json"},
    )
    assert too_large.status_code == 413
    _has_security_headers(too_large)
    assert not _cookies(no_token) and not _cookies(too_large)


def test_the_cookie_is_secure_in_production(
    web_settings: Settings, engine: Engine, catalog: Catalog
) -> None:
    production = web_settings.model_copy(update={"env": "production", "secret_key": "s" * 40})
    with TestClient(create_app(production, engine=engine, catalog=catalog)) as client:
        r = client.get("/static/site.css")
    (cookie,) = _cookies(r)
    assert {a.strip() for a in cookie.split(";")[1:]} == {
        "HttpOnly",
        "Path=/",
        "SameSite=lax",
        "Secure",
    }
