"""Self-service registration with identity verification (development verifier), over the
page: a person and a company's legal representative open accounts for their own files; false
claims are refused with nothing written; production refuses the development verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import (
    FRJC_HEADERS,
    LI,
    WANG,
    XINYUAN,
    penalty,
    registration,
    run,
    write_csv,
)
from fixtures.web import PASSWORD, csrf_of, login
from sqlalchemy import Engine, func, select

from xinyong.accounts.identity import (
    IdentityClaim,
    IdentityRejected,
    register_subject,
    verifier_for,
)
from xinyong.accounts.models import accounts
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotAllowed
from xinyong.settings import Settings


def _post(client: TestClient, **fields: str) -> int:
    token = csrf_of(client.get("/register").text)
    response = client.post(
        "/register",
        data={"csrf_token": token, "password": PASSWORD, **fields},
        follow_redirects=False,
    )
    return response.status_code


def _accounts(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(accounts)).scalar_one()


def test_a_person_registers_and_sees_their_own_file(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    # the development verifier confirms only people the platform holds
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(WANG)]))
    assert (
        _post(client, kind="person", code=WANG.id_number, name=WANG.name, username="wangjg") == 303
    )
    login(client, "wangjg")
    assert client.get("/me").status_code == 200
    # a wrong check digit or a second account for the same name are refused, nothing written
    before = _accounts(engine)
    assert _post(
        client,
        kind="person",
        code=WANG.id_number[:-1] + ("1" if WANG.id_number[-1] != "1" else "2"),
        name=WANG.name,
        username="someone",
    ) in (400, 403)
    # one account per subject, refused like any failed check
    assert (
        _post(client, kind="person", code=WANG.id_number, name=WANG.name, username="wangjg2") == 400
    )
    assert _accounts(engine) == before


def test_a_company_registers_only_with_its_registered_representative(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(
        engine,
        catalog,
        write_csv(tmp_path / "frjc.csv", [registration(XINYUAN)], FRJC_HEADERS),
        dataset="FRJC",
    )
    wrong = _post(
        client,
        kind="organisation",
        code=XINYUAN.uscc,
        name=XINYUAN.name,
        representative="张三",
        username="xinyuan",
    )
    assert wrong == 400 and _accounts(engine) == 0
    right = _post(
        client,
        kind="organisation",
        code=XINYUAN.uscc,
        name=XINYUAN.name,
        representative=XINYUAN.legal_rep,
        username="xinyuan",
    )
    assert right == 303 and _accounts(engine) == 1


def test_production_refuses_the_development_verifier(settings: Settings) -> None:
    with pytest.raises(NotAllowed) as refused:
        verifier_for(settings.model_copy(update={"env": "production"}))
    assert refused.value.code == "IDENTITY_UNAVAILABLE"


def test_a_name_that_does_not_match_a_known_person_is_refused(
    engine: Engine, catalog: Catalog, settings: Settings, tmp_path: Path
) -> None:
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(WANG)]))
    with engine.begin() as conn:
        register_subject(
            conn,
            catalog,
            verifier_for(settings),
            claim=IdentityClaim("person", WANG.id_number, WANG.name),
            username="wang1",
            password=PASSWORD,
            source="test",
        )
    with engine.begin() as conn, pytest.raises(IdentityRejected):
        register_subject(
            conn,
            catalog,
            verifier_for(settings),
            claim=IdentityClaim("person", WANG.id_number, "李四"),
            username="wang2",
            password=PASSWORD,
            source="test",
        )


def _refusal(client: TestClient, **fields: str) -> tuple[int, str]:
    token = csrf_of(client.get("/register").text)
    response = client.post(
        "/register",
        data={"csrf_token": token, "password": PASSWORD, **fields},
        headers={"accept": "application/json"},
        follow_redirects=False,
    )
    return response.status_code, response.text


def _register_events(engine: Engine) -> list[tuple[str, str | None, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.outcome, audit_events.c.source, audit_events.c.detail)
            .where(audit_events.c.action == "account.register")
            .order_by(audit_events.c.seq)
        )
        return [(r.outcome, r.source, r.detail) for r in rows]


def test_the_answer_does_not_tell_whether_a_code_is_stored(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    """WANG is on file, LI is not: a wrong name gets the same answer for both, and LI cannot
    open an account the platform cannot confirm; every attempt is an audit event."""
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(WANG)]))
    stored = _refusal(client, kind="person", code=WANG.id_number, name="赵六", username="a1")
    unknown = _refusal(client, kind="person", code=LI.id_number, name="赵六", username="a2")
    unknown_right_name = _refusal(
        client, kind="person", code=LI.id_number, name=LI.name, username="a3"
    )
    assert stored == unknown == unknown_right_name
    assert stored[0] == 400 and "REGISTRATION_REFUSED" in stored[1]
    assert _accounts(engine) == 0
    events = _register_events(engine)
    assert [e[0] for e in events] == ["denied"] * 3
    # the log keeps who tried which division, never the number tried
    assert all(WANG.id_number not in str(e[2]) and LI.id_number not in str(e[2]) for e in events)


def test_registration_is_rate_limited_per_address_and_per_code(
    client: TestClient, engine: Engine, app: Any
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"rate_limit_register_per_minute": 3, "rate_limit_register_code_per_minute": 2}
    )
    answers = [
        _refusal(client, kind="person", code=WANG.id_number, name=f"试{i}", username=f"u{i}")[0]
        for i in range(3)
    ]
    # the third try of one code is refused before any check, however many addresses try it
    assert answers == [400, 400, 429]
    answers = [
        _refusal(client, kind="person", code=LI.id_number, name="试", username="v")[0]
        for _ in range(2)
    ]
    assert answers == [429, 429]  # the address is over its limit now too
    assert [e[0] for e in _register_events(engine)] == ["denied"] * 5


def test_the_development_verifier_is_named_on_the_page(client: TestClient) -> None:
    assert "开发环境核验" in client.get("/register").text
