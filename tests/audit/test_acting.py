"""One helper appends the event of a principal acting (``audit.append_for``): the actor, role,
department and source come from the principal, and "no source" is stored one way (NULL), in
the caller's transaction or in one of its own."""

from __future__ import annotations

from pathlib import Path

from fixtures.deliveries import ENV, SAMR, XINYUAN, penalty, run, write_csv
from sqlalchemy import Engine, select

from xinyong import audit
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.models import audit_events
from xinyong.catalog.loader import Catalog
from xinyong.notifications.subscriptions import subscribe
from xinyong.notifications.webhooks import register_webhook
from xinyong.subjects.service import find_subject

CLERK = Principal(role=Role.CLERK, name="samr-clerk", account_id=1, dept_uscc=SAMR.uscc)


def _sources(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.dept_uscc, audit_events.c.source)
            .where(audit_events.c.action != "batch.ingest")
            .order_by(audit_events.c.seq)
        )
        return [(r.action, r.dept_uscc, r.source) for r in rows]


def test_the_principal_is_recorded_and_an_empty_source_is_null(engine: Engine) -> None:
    with engine.begin() as conn:
        own = audit.append_for(conn, CLERK, "test.own", detail={"n": 1})
        other = audit.append_for(conn, CLERK, "test.other", dept_uscc=ENV.uscc)
        none = audit.append_for(conn, CLERK, "test.none", dept_uscc=None)
    cli = audit.append_for_independently(engine, Principal.cli("ops@srv"), "test.cli")
    assert (own.actor, own.role, own.dept_uscc, own.source) == (
        "samr-clerk",
        "clerk",
        SAMR.uscc,
        None,
    )
    assert (other.dept_uscc, none.dept_uscc) == (ENV.uscc, None)
    assert (cli.actor, cli.role, cli.source) == ("cli:ops@srv", "operator", "srv")
    assert _sources(engine) == [
        ("test.own", SAMR.uscc, None),
        ("test.other", ENV.uscc, None),
        ("test.none", None, None),
        ("test.cli", None, "srv"),
    ]
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_services_store_no_empty_source(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    """Subscriptions and webhooks stored "" for a principal without a source, checks and
    lists NULL: the log now spells "unknown" one way whichever service wrote it."""
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(XINYUAN)]))
    with engine.begin() as conn:
        subject_id = int(find_subject(conn, XINYUAN.uscc)["id"])
        subscribe(conn, CLERK, dept_uscc=SAMR.uscc, subject_id=subject_id)
        register_webhook(conn, CLERK, dept_uscc=SAMR.uscc, url="https://example.org/hook")
    assert _sources(engine) == [
        ("notification.subscribe", SAMR.uscc, None),
        ("notification.webhook_add", SAMR.uscc, None),
    ]
