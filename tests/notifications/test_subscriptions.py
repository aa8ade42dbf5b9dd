"""Subscriptions: a department that follows a subject hears of every new record about it when a
batch is ingested (`xinyong.ingest.service.ingest`), once per record and department."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.deliveries import (
    COUNTY_SAMR,
    ENV,
    HENGDA,
    SAMR,
    WANG,
    XINYUAN,
    penalty,
    record_by_wsh,
    run,
    write_csv,
)
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.errors import Conflict, NotAllowed, NotFound
from xinyong.notifications.feed import FeedPage, feed
from xinyong.notifications.models import notification_events
from xinyong.notifications.subscriptions import list_subscriptions, subscribe, unsubscribe
from xinyong.subjects.service import find_subject

OPERATOR = Principal.cli("tester@host")


def _feed(engine: Engine, dept: str) -> FeedPage:
    with engine.connect() as conn:
        return feed(conn, Principal(role=Role.CLERK, name="c", dept_uscc=dept), since=None)


def _subject_id(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return int(find_subject(conn, code)["id"])


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(notification_events)).scalar_one())


def test_new_records_about_a_followed_subject_reach_the_subscribers(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    # the subjects exist after a first delivery; nobody follows them yet
    run(
        engine,
        catalog,
        write_csv(
            tmp_path / "1.csv", [penalty(XINYUAN), penalty(HENGDA, "濮市监罚决字〔2023〕00102号")]
        ),
    )
    assert _events(engine) == 0
    xinyuan = _subject_id(engine, XINYUAN.uscc)
    with engine.begin() as conn:
        subscribe(conn, OPERATOR, dept_uscc=ENV.uscc, subject_id=xinyuan)
        clerk = Principal(role=Role.CLERK, name="county", account_id=5, dept_uscc=COUNTY_SAMR.uscc)
        subscribe(conn, clerk, dept_uscc=COUNTY_SAMR.uscc, subject_id=xinyuan)

    # the record of the first delivery, corrected: a new version, not a new record
    corrected = penalty(XINYUAN)
    corrected.update({"处罚内容": "罚款人民币6000元", "罚款金额（万元）": "0.6"})
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00201号"),
        penalty(XINYUAN, "濮市监罚决字〔2023〕00202号", 违法行为类型="无照经营"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00203号"),
        penalty(WANG, "濮市监罚决字〔2023〕00204号"),
        corrected,
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "2.csv", rows))
    assert (receipt.new, receipt.updated) == (4, 1)

    new_ids = {
        record_by_wsh(engine, w)["id"]
        for w in ("濮市监罚决字〔2023〕00201号", "濮市监罚决字〔2023〕00202号")
    }
    for dept in (ENV.uscc, COUNTY_SAMR.uscc):
        page = _feed(engine, dept)
        assert {n.payload["record_id"] for n in page.items} == new_ids
        assert {n.kind for n in page.items} == {"record.new"}
        assert {n.subject_id for n in page.items} == {xinyuan}
        assert page.items[0].payload["dataset"] == "XZCF"
        assert page.items[0].payload["source_dept_uscc"] == SAMR.uscc
        assert page.items[0].payload["batch_id"] == receipt.batch_id
    # one event per record, delivered to both subscribers under the same id
    assert _events(engine) == 2
    assert {n.event_id for n in _feed(engine, ENV.uscc).items} == {
        n.event_id for n in _feed(engine, COUNTY_SAMR.uscc).items
    }
    # the submitting department follows nobody: it hears nothing
    assert _feed(engine, SAMR.uscc).items == []

    # the same file again: nothing new, nothing notified
    again = run(engine, catalog, write_csv(tmp_path / "3.csv", rows))
    assert again.new == 0
    assert _events(engine) == 2

    # after unsubscribing, the department is no longer told
    with engine.begin() as conn:
        unsubscribe(conn, OPERATOR, dept_uscc=ENV.uscc, subject_id=xinyuan)
    run(
        engine,
        catalog,
        write_csv(tmp_path / "4.csv", [penalty(XINYUAN, "濮市监罚决字〔2023〕00301号")]),
    )
    assert len(_feed(engine, ENV.uscc).items) == 2
    assert len(_feed(engine, COUNTY_SAMR.uscc).items) == 3


def test_subscription_rules(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(XINYUAN)]))
    xinyuan = _subject_id(engine, XINYUAN.uscc)
    with engine.begin() as conn:
        other = Principal(role=Role.DEPT_SYSTEM, name="env-sys", account_id=9, dept_uscc=ENV.uscc)
        with pytest.raises(NotAllowed):
            subscribe(conn, other, dept_uscc=SAMR.uscc, subject_id=xinyuan)
        with pytest.raises(NotAllowed):
            subscribe(conn, Principal.public("1.2.3.4"), dept_uscc=SAMR.uscc, subject_id=xinyuan)
        with pytest.raises(NotFound):
            subscribe(conn, OPERATOR, dept_uscc=SAMR.uscc, subject_id=999_999)
        subscribe(conn, OPERATOR, dept_uscc=SAMR.uscc, subject_id=xinyuan)
        with pytest.raises(Conflict):
            subscribe(conn, OPERATOR, dept_uscc=SAMR.uscc, subject_id=xinyuan)
        [sub] = list_subscriptions(conn)
        assert (sub.dept_uscc, sub.subject_name) == (SAMR.uscc, XINYUAN.name)
        unsubscribe(conn, OPERATOR, dept_uscc=SAMR.uscc, subject_id=xinyuan)
        with pytest.raises(NotFound):
            unsubscribe(conn, OPERATOR, dept_uscc=SAMR.uscc, subject_id=xinyuan)


# -- the command line ------------------------------------------------------------------------


def xinyong(*args: str) -> Result:
    from xinyong.cli import app

    return CliRunner().invoke(app, ["notify", *args])


@pytest.fixture
def followed(cli: None, engine: Engine, catalog: Catalog, tmp_path: Path) -> Iterator[None]:
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(XINYUAN)]))
    yield


def test_cli_subscribe_list_unsubscribe(followed: None, engine: Engine) -> None:
    # by the old 组织机构代码 embedded in the USCC: any code of the subject will do
    done = xinyong("subscribe", XINYUAN.org_code, "--dept", ENV.uscc)
    assert done.exit_code == 0, done.output
    assert XINYUAN.name in done.output
    listed = xinyong("subscriptions", "--json")
    assert [s["subject_name"] for s in json.loads(listed.stdout)] == [XINYUAN.name]
    twice = xinyong("subscribe", XINYUAN.uscc, "--dept", ENV.uscc, "--json")
    assert twice.exit_code == 2
    assert json.loads(twice.stdout)["error"]["code"] == "SUBSCRIPTION_EXISTS"
    unknown = xinyong("subscribe", HENGDA.uscc, "--dept", ENV.uscc, "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "SUBJECT_NOT_FOUND"
    bad_dept = xinyong("subscribe", XINYUAN.uscc, "--dept", "91410900XXXXXXXXXX", "--json")
    assert bad_dept.exit_code == 2
    assert json.loads(bad_dept.stdout)["error"]["code"] == "DEPT_UNKNOWN"
    gone = xinyong("unsubscribe", XINYUAN.uscc, "--dept", ENV.uscc)
    assert gone.exit_code == 0, gone.output
    again = xinyong("unsubscribe", XINYUAN.uscc, "--dept", ENV.uscc)
    assert again.exit_code == 1
    assert "SUBSCRIPTION_NOT_FOUND" in again.output


def test_cli_webhook_add_list_remove_and_worker_once(followed: None, engine: Engine) -> None:
    from notifications.receiver import running_receiver

    with running_receiver() as receiver:
        added = xinyong("webhook", "add", SAMR.uscc, receiver.url)
        assert added.exit_code == 0, added.output
        secret = added.stdout.strip()
        assert len(secret) == 64
        bad = xinyong("webhook", "add", ENV.uscc, "ftp://x.example/", "--json")
        assert bad.exit_code == 2
        assert json.loads(bad.stdout)["error"]["code"] == "WEBHOOK_URL_INVALID"
        listed = xinyong("webhook", "list", "--json")
        assert [e["url"] for e in json.loads(listed.stdout)] == [receiver.url]
        assert secret not in listed.stdout
        # a followed subject's new record, pushed by one run of the worker
        assert xinyong("subscribe", XINYUAN.uscc, "--dept", SAMR.uscc).exit_code == 0
        with engine.begin() as conn:
            from xinyong.notifications.outbox import enqueue

            enqueue(
                conn,
                kind="list.entered",
                subject_id=None,
                payload={"n": 1},
                dept_usccs=[SAMR.uscc],
                event_key="list.entered:record:1:v1",
            )
        worked = xinyong("worker", "--once")
        assert worked.exit_code == 0, worked.output
        assert "送达 1 条" in worked.output
        assert len(receiver.received) == 1
    assert xinyong("dead", "--json").stdout.strip() == "[]"
    removed = xinyong("webhook", "remove", SAMR.uscc)
    assert removed.exit_code == 0, removed.output
    missing = xinyong("webhook", "remove", SAMR.uscc, "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["code"] == "WEBHOOK_NOT_FOUND"
