"""One answer to "may this principal act on this department's record" (``accounts.policy``):
operators on every department's, clerks and department systems on their own only; auditors
read but never act. Refusals carry one code (``DEPT_NOT_OWN``), except where existence is
department business (checks, batches): there another department's id is answered exactly like
a missing one, message included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fixtures.deliveries import ENV, SAMR, XINYUAN, penalty, record_by_wsh, run, write_csv
from sqlalchemy import Engine

from xinyong.accounts.policy import may_act_on, require_may_act_on
from xinyong.accounts.roles import Principal, Role
from xinyong.batches.service import batch_for
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotAllowed, NotFound
from xinyong.lists.exits import mark_objection, mark_repaired
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.notifications.subscriptions import subscribe, unsubscribe
from xinyong.notifications.webhooks import register_webhook, unregister_webhook
from xinyong.subjects.service import find_subject

OPERATOR = Principal(role=Role.OPERATOR, name="op")
AUDITOR = Principal(role=Role.AUDITOR, name="auditor")
SAMR_CLERK = Principal(role=Role.CLERK, name="samr", account_id=1, dept_uscc=SAMR.uscc)
ENV_SYSTEM = Principal(role=Role.DEPT_SYSTEM, name="env", account_id=2, dept_uscc=ENV.uscc)
SUBJECT = Principal(role=Role.SUBJECT, name="s", account_id=3, subject_id=1)
PUBLIC = Principal.public("1.2.3.4")


def test_operator_or_the_own_department_may_act() -> None:
    assert may_act_on(OPERATOR, SAMR.uscc)
    assert may_act_on(SAMR_CLERK, SAMR.uscc)
    assert not may_act_on(SAMR_CLERK, ENV.uscc)
    assert not may_act_on(ENV_SYSTEM, SAMR.uscc) and may_act_on(ENV_SYSTEM, ENV.uscc)
    for nobody in (AUDITOR, SUBJECT, PUBLIC):
        assert not may_act_on(nobody, SAMR.uscc)
    # a record without a department belongs to no clerk
    assert not may_act_on(SAMR_CLERK, None) and may_act_on(OPERATOR, None)
    # auditors oversee: they read every department's, and only read
    assert may_act_on(AUDITOR, SAMR.uscc, reading=True)
    assert not may_act_on(SUBJECT, SAMR.uscc, reading=True)


def test_refusals_carry_one_code_or_hide_existence() -> None:
    with pytest.raises(NotAllowed) as refused:
        require_may_act_on(SAMR_CLERK, ENV.uscc, what="webhook")
    assert refused.value.code == "DEPT_NOT_OWN" and "推送地址" in refused.value.message
    with pytest.raises(NotFound) as hidden:
        require_may_act_on(
            SAMR_CLERK, ENV.uscc, what="check", hide=True, message="没有编号为 7 的核查"
        )
    assert (hidden.value.code, hidden.value.message) == ("CHECK_NOT_FOUND", "没有编号为 7 的核查")


def test_services_refuse_another_department_with_one_code(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(XINYUAN)]))
    record = record_by_wsh(engine, penalty(XINYUAN)["行政处罚决定书文号"])
    measures = load_measures(measures_dir(catalog), catalog)
    with engine.begin() as conn:
        subject_id = int(find_subject(conn, XINYUAN.uscc)["id"])
        refusals = [
            lambda: subscribe(conn, ENV_SYSTEM, dept_uscc=SAMR.uscc, subject_id=subject_id),
            lambda: unsubscribe(conn, ENV_SYSTEM, dept_uscc=SAMR.uscc, subject_id=subject_id),
            lambda: register_webhook(
                conn, ENV_SYSTEM, dept_uscc=SAMR.uscc, url="https://example.org/hook"
            ),
            lambda: unregister_webhook(conn, ENV_SYSTEM, dept_uscc=SAMR.uscc),
            lambda: mark_objection(conn, ENV_SYSTEM, record["id"], open=True, reason="异议"),
            lambda: mark_repaired(
                conn,
                catalog,
                measures,
                ENV_SYSTEM,
                record["id"],
                basis="修复",
                on=date(2026, 12, 7),
            ),
        ]
        for refused in refusals:
            with pytest.raises(NotAllowed) as caught:
                refused()
            assert caught.value.code == "DEPT_NOT_OWN"
        # the own department and the operator pass the same gate
        subscribe(conn, ENV_SYSTEM, dept_uscc=ENV.uscc, subject_id=subject_id)
        subscribe(conn, OPERATOR, dept_uscc=SAMR.uscc, subject_id=subject_id)


def test_another_departments_batch_reads_like_a_missing_one(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    receipt = run(engine, catalog, write_csv(tmp_path / "1.csv", [penalty(XINYUAN)]))
    assert receipt.batch_id is not None
    with engine.connect() as conn:
        assert batch_for(conn, SAMR_CLERK, receipt.batch_id)["id"] == receipt.batch_id
        assert batch_for(conn, AUDITOR, receipt.batch_id)["id"] == receipt.batch_id
        with pytest.raises(NotFound) as other:
            batch_for(conn, ENV_SYSTEM, receipt.batch_id)
        with pytest.raises(NotFound) as missing:
            batch_for(conn, ENV_SYSTEM, receipt.batch_id + 1000)
        assert other.value.code == missing.value.code == "BATCH_NOT_FOUND"
        # the message names the id asked for and nothing else: no oracle in the wording
        assert other.value.message == missing.value.message.replace(
            str(receipt.batch_id + 1000), str(receipt.batch_id)
        )
        # roles that read no department data are refused before any lookup
        with pytest.raises(NotAllowed):
            batch_for(conn, PUBLIC, receipt.batch_id + 1000)
