"""Subjects with realistic records for the report tests, delivered through the real ingestion.

鑫源商贸 gets its registration (with a contact phone, a masked item), three penalties of the
market regulator and its tax-credit grade (纳税信用等级, a 政务共享 dataset the public never
sees); 李桂英, a natural person, gets one penalty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fixtures.clock import TEST_START
from fixtures.deliveries import (
    FRJC_HEADERS,
    LI,
    SAMR,
    XINYUAN,
    penalty,
    registration,
    run,
    write_csv,
)
from sqlalchemy import Connection, Engine, select

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.clock import CHINA
from xinyong.sample.datasets import Dept
from xinyong.subjects.models import subjects

TAX = Dept("11410900PY0000030F", "国家税务总局濮阳市税务局")
PHONE = "0393-8123456"
NSXY_HEADERS = [
    "统一社会信用代码",
    "纳税人名称",
    "评价年度",
    "纳税信用等级",
    "评价机关",
    "评价日期",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
]


@dataclass(frozen=True)
class Loaded:
    company_id: int
    person_id: int


def subject_id(conn: Connection, *, uscc: str | None = None, id_number: str | None = None) -> int:
    column = subjects.c.uscc if uscc else subjects.c.id_number
    return int(
        conn.execute(select(subjects.c.id).where(column == (uscc or id_number))).scalar_one()
    )


def _recent(row: dict[str, str], today: date, days_ago: int) -> dict[str, str]:
    decided = today - timedelta(days=days_ago)
    row["处罚决定日期"] = f"{decided:%Y/%m/%d}"
    row["处罚有效期"] = f"{decided + timedelta(days=365):%Y/%m/%d}"
    return row


def load(engine: Engine, catalog: Catalog, folder: Path, penalties: int = 3) -> Loaded:
    folder.mkdir(parents=True, exist_ok=True)
    reg = registration(XINYUAN, 联系电话=PHONE, 曾用名="濮阳市华龙区鑫源商行")
    run(
        engine,
        catalog,
        write_csv(folder / "frjc.csv", [reg], [*FRJC_HEADERS, "联系电话"]),
        dataset="FRJC",
    )
    # decided in the last weeks before the tests' clock starts: still public
    today = TEST_START.astimezone(CHINA).date()
    rows = [
        _recent(penalty(XINYUAN, wsh=f"濮市监罚决字〔2026〕{101 + i:05d}号"), today, 10 + i)
        for i in range(penalties)
    ]
    rows.append(_recent(penalty(LI, wsh="濮市监罚决字〔2026〕00007号"), today, 20))
    run(engine, catalog, write_csv(folder / "xzcf.csv", rows), today=today)
    grade = {
        "统一社会信用代码": XINYUAN.uscc,
        "纳税人名称": XINYUAN.name,
        "评价年度": "2024",
        "纳税信用等级": "A",
        "评价机关": TAX.name,
        "评价日期": "2025-04-20",
        "数据来源单位": TAX.name,
        "数据来源单位统一社会信用代码": TAX.uscc,
    }
    run(
        engine,
        catalog,
        write_csv(folder / "nsxy.csv", [grade], NSXY_HEADERS),
        dataset="NSXY",
        dept=TAX,
    )
    with engine.connect() as conn:
        return Loaded(
            company_id=subject_id(conn, uscc=XINYUAN.uscc),
            person_id=subject_id(conn, id_number=LI.id_number),
        )


@pytest.fixture
def loaded(engine: Engine, catalog: Catalog, tmp_path: Path) -> Loaded:
    return load(engine, catalog, tmp_path / "deliveries")


PUBLIC = Principal.public("198.51.100.7")
CLERK = Principal(Role.CLERK, "env-clerk", account_id=7, dept_uscc="11410900PY00000577")
SAMR_DEPT = SAMR


def myself(subject: int) -> Principal:
    return Principal(Role.SUBJECT, "xinyuan-login", account_id=9, subject_id=subject)
