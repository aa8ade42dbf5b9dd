"""The loop of issue 5 end to end: the 发展改革委 delivers a 严重失信主体名单 entry; a licensing
department that must act on it reads it from its feed over the API and receives it on its
webhook, signed, with the same event id; its check of the company then shows the hit."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures.deliveries import ENV, XINYUAN
from fixtures.web import bearer, make_token
from lists.rows import NDRC, deliver, headers, list_row
from notifications.receiver import running_receiver
from sqlalchemy import Engine

from xinyong.accounts.roles import Principal
from xinyong.catalog.loader import Catalog
from xinyong.notifications.signing import verify_signature
from xinyong.notifications.webhooks import deliver_due, register_webhook
from xinyong.settings import Settings


def test_a_listing_reaches_the_implementing_department_by_feed_and_webhook(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path, web_settings: Settings
) -> None:
    token = make_token(engine, catalog, "env.system", ENV.uscc)
    with running_receiver() as receiver:
        with engine.begin() as conn:
            _, secret = register_webhook(
                conn, Principal.cli("operator@host"), dept_uscc=ENV.uscc, url=receiver.url
            )
        receipt = deliver(
            engine,
            catalog,
            tmp_path,
            "YZSX",
            [list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕3号", NDRC)],
        )
        assert receipt.new == 1

        page = client.get("/api/v1/notifications", headers=bearer(token))
        assert page.status_code == 200, page.text
        entered = [n for n in page.json()["items"] if n["kind"] == "list.entered"]
        assert len(entered) == 1
        event_id = entered[0]["event_id"]
        # reading on from the cursor gives nothing new
        again = client.get(
            "/api/v1/notifications", params={"since": page.json()["next"]}, headers=bearer(token)
        )
        assert again.json()["items"] == []

        run = deliver_due(engine, web_settings)
        assert run.delivered >= 1
        pushed = [r for r in receiver.received if r.event_id == event_id]
        assert len(pushed) == 1
        push = pushed[0]
        assert verify_signature(
            secret,
            push.headers["x-xinyong-timestamp"],
            push.body,
            push.headers["x-xinyong-signature"],
            now=web_settings.clock.now().timestamp(),
        )

    checked = client.post(
        "/api/v1/checks",
        json={"subject_code": XINYUAN.uscc, "matter": "licensing"},
        headers=bearer(token),
    )
    assert checked.status_code == 201, checked.text
    assert any(h["dataset"] == "YZSX" for h in checked.json()["hits"])
    assert any(m["obligation"] == "must" for m in checked.json()["measures"])
