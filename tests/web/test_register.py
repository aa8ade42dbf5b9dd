"""Self-service registration with identity verification (development verifier), over the
page: a person and a company's legal representative open accounts for their own files; false
claims are refused with nothing written; production refuses the development verifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import FRJC_HEADERS, WANG, XINYUAN, registration, run, write_csv
from fixtures.web import PASSWORD, csrf_of, login
from sqlalchemy import Engine, func, select

from xinyong.accounts.identity import (
    IdentityClaim,
    IdentityRejected,
    register_subject,
    verifier_for,
)
from xinyong.accounts.models import accounts
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


def test_a_person_registers_and_sees_their_own_file(client: TestClient, engine: Engine) -> None:
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
    assert (
        _post(client, kind="person", code=WANG.id_number, name=WANG.name, username="wangjg") == 409
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
    engine: Engine, catalog: Catalog, settings: Settings
) -> None:
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
