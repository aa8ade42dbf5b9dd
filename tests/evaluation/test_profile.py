"""The SME financing profile (信易贷): released to the company itself, or to a department holding
the company's authorisation for the profile's purpose; refused (and audited) otherwise; both
databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Connection

from evaluation.rows import NOW, TODAY, company, listing, record
from xinyong.accounts import authorisations
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotAllowed
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.profile import read_profile
from xinyong.evaluation.runs import run_model

BANK = "11410900PY0000014R"  # a department account stands for the bank's financing desk


def test_the_profile_needs_the_companys_authorisation(conn: Connection, catalog: Catalog) -> None:
    with conn.begin():
        c = company(conn)
        record(conn, c, "FRJC", data={"DJ_CLRQ": "2019-05-01", "DJ_ZCZB": "500"})
        record(conn, c, "NSXY", decided=date(2025, 4, 1), data={"NS_XYDJ": "B", "NS_PJND": "2024"})
        record(conn, c, "NSXY", decided=date(2026, 4, 1), data={"NS_XYDJ": "A", "NS_PJND": "2025"})
        record(conn, c, "XZCF", klass="一般")
        record(conn, c, "XZCF", klass="严重", until=TODAY - timedelta(days=1))  # ended
        listing(conn, c, "JYYC", "JYYC")
        run_model(conn, catalog, model_book(catalog).get("QYGGXY"), as_of=TODAY, actor="t")
    me = Principal(role=Role.SUBJECT, name="me", subject_id=c)
    bank = Principal(role=Role.CLERK, name="bank", dept_uscc=BANK)
    with conn.begin():
        mine = read_profile(conn, catalog, me, "XYD", c, TODAY)
    facts = {f["code"]: f["value"] for f in mine["facts"]}
    assert facts["CLRQ"] == "2019-05-01" and facts["NSXY"] == "A" and facts["NSND"] == "2025"
    assert facts["CF_YZ"] == 0 and facts["CF_QT"] == 1
    assert facts["SXMD"] == ["经营异常名录"] and facts["HMD"] == []
    assert (facts["PJ"]["grade"], facts["PJ"]["class"]) == ("BB", "C")  # 1000 - 20 - 50 + 40
    with conn.begin(), pytest.raises(authorisations.AuthorisationRequired):
        read_profile(conn, catalog, bank, "XYD", c, TODAY)
    with conn.begin(), pytest.raises(NotAllowed):
        read_profile(conn, catalog, Principal(role=Role.PUBLIC, name="p"), "XYD", c, TODAY)
    with conn.begin():
        authorisations.grant_online(
            conn,
            me,
            catalog=catalog,
            subject_id=c,
            dept_uscc=BANK,
            purpose="融资授信",
            valid_from=NOW,
            valid_until=NOW + timedelta(days=90),
        )
    with conn.begin():
        released = read_profile(conn, catalog, bank, "XYD", c, TODAY)
    assert released["facts"] == mine["facts"]
