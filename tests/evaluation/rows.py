"""Subjects, records and list entries written straight into their tables for the evaluation
tests: each test needs exact dates, states and classes (what the evaluation reads), not the
path of a delivery, which the ingest tests cover. Synthetic codes (valid check characters)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from fixtures.clock import TEST_START
from fixtures.deliveries import make_id, make_uscc
from sqlalchemy import Connection, insert

from xinyong.batches.models import batches
from xinyong.db import dumps
from xinyong.lists.models import list_entries
from xinyong.records.models import records
from xinyong.subjects.models import subjects

DEPT = "11410900PY0000022L"  # 濮阳市市场监督管理局 (departments.yaml)
NOW: datetime = TEST_START
TODAY = date(2026, 12, 7)
_seq = itertools.count(1)


def batch(conn: Connection, dataset: str = "XZCF") -> int:
    return int(
        conn.execute(
            insert(batches)
            .values(
                dataset=dataset,
                dept_uscc=DEPT,
                actor="test",
                channel="cli",
                file_name="test.csv",
                file_sha256="0" * 64,
                file_format="csv",
                received_at=NOW,
                finished_at=NOW,
                received=0,
                new=0,
                updated=0,
                unchanged=0,
                pending=0,
                rejected=0,
                warnings=0,
            )
            .returning(batches.c.id)
        ).scalar_one()
    )


def company(conn: Connection, *, status: str | None = "存续", name: str | None = None) -> int:
    n = next(_seq)
    uscc = make_uscc("91", "410902", f"MA{n:06d}")
    return int(
        conn.execute(
            insert(subjects)
            .values(
                category="法人及非法人组织",
                database="法人",
                name=name or f"濮阳测试评价企业{n}有限公司（合成）",
                name_norm=f"濮阳测试评价企业{n}有限公司",
                uscc=uscc,
                org_code=uscc[8:17],
                status=status,
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(subjects.c.id)
        ).scalar_one()
    )


def person(conn: Connection) -> int:
    n = next(_seq)
    id_number = make_id("410902", date(1980, 1, 1), n % 1000)
    return int(
        conn.execute(
            insert(subjects)
            .values(
                category="自然人",
                database="自然人",
                name=f"合成测试人{n}",
                name_norm=f"合成测试人{n}",
                id_number=id_number,
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(subjects.c.id)
        ).scalar_one()
    )


def record(
    conn: Connection,
    subject_id: int,
    dataset: str,
    *,
    decided: date | None = date(2026, 6, 1),
    state: str = "公示中",
    klass: str | None = None,
    until: date | None = None,
    repair_from: date | None = None,
    data: dict[str, Any] | None = None,
    batch_id: int | None = None,
) -> int:
    n = next(_seq)
    return int(
        conn.execute(
            insert(records)
            .values(
                dataset=dataset,
                natural_key=f"EV-{n}",
                subject_id=subject_id,
                database="法人",
                dept_uscc=DEPT,
                state=state,
                version=1,
                content_hash="0" * 32,
                data=data or {},
                raw={},
                decision_date=decided,
                batch_id=batch_id or batch(conn, dataset),
                row_no=n,
                created_at=NOW,
                updated_at=NOW,
                publicity_rule="2026-ndrc-36" if klass else None,
                publicity_class=klass,
                publicity_min_end=repair_from,
                publicity_max_end=until,
            )
            .returning(records.c.id)
        ).scalar_one()
    )


def listing(
    conn: Connection,
    subject_id: int,
    dataset: str,
    kind: str,
    *,
    listed: date = date(2026, 3, 1),
    valid_until: date | None = None,
    status: str = "listed",
    state: str = "公示中",
) -> int:
    rid = record(conn, subject_id, dataset, decided=listed, state=state, until=valid_until)
    conn.execute(
        insert(list_entries).values(
            record_id=rid,
            dataset=dataset,
            list_kind=kind,
            subject_id=subject_id,
            dept_uscc=DEPT,
            listed_on=listed,
            valid_until=valid_until,
            status=status,
            updated_at=NOW,
        )
    )
    return rid


__all__ = ["TODAY", "batch", "company", "dumps", "listing", "person", "record"]
