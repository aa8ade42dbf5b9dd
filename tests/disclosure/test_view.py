"""Who sees what (view.py): audiences by 共享属性 and role, persons, minors, masking, archived
states and publicity ends; realistic deliveries ingested on both databases."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import (
    ENV,
    FRJC_HEADERS,
    HENGDA,
    LI,
    ORGANISATION_DEPT,
    SAMR,
    WANG,
    XINYUAN,
    Citizen,
    Company,
    make_id,
    penalty,
    record_by_wsh,
    registration,
    run,
    write_csv,
)
from sqlalchemy import Connection, Engine

from disclosure.rows import COURT, SXBZX_HEADERS, debtor
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset, Disclosure
from xinyong.disclosure.view import (
    Access,
    ShownRecord,
    access_to,
    count_visible,
    mask_id_number,
    present_subject,
    visible_records,
    was_minor,
)
from xinyong.records import service as records_service
from xinyong.subjects.service import find_subject

D = date.fromisoformat
PUBLIC = Principal(Role.PUBLIC, "public")
CLERK = Principal(Role.CLERK, "市场监管经办人", dept_uscc=SAMR.uscc)
OPERATOR = Principal(Role.OPERATOR, "cli:op@host")
AUDITOR = Principal(Role.AUDITOR, "审计员")
SYSTEM = Principal(Role.DEPT_SYSTEM, "环保局系统", dept_uscc=ENV.uscc)
GOVERNMENT = (CLERK, OPERATOR, AUDITOR, SYSTEM)
# 16 on 2025-03-10, 18 from 2026-06-01
MINOR = Citizen("赵小明", make_id("410928", date(2008, 6, 1), 1))
ON = D("2026-11-01")  # as_of: the day the views are read (all test decisions are before it)

COMPANY = {"id": 1, "category": "法人及非法人组织"}
PERSON = {"id": 2, "category": "自然人"}


def itself(subject: dict[str, Any]) -> Principal:
    return Principal(Role.SUBJECT, subject.get("name", "本人"), subject_id=subject["id"])


# -- access by 共享属性 and role (no database) --------------------------------------------------


def test_need_to_know_narrows_the_government_audience(catalog: Catalog) -> None:
    """公职人员诚信档案 (catalogue ``readers``): the 组织人事 departments' clerks and systems
    and auditors read it; operators, other departments and the public do not; the subject
    reads its own."""
    gzry = catalog.dataset("GZRY")
    organisation = Principal(Role.CLERK, "组织部经办人", dept_uscc=ORGANISATION_DEPT.uscc)
    personnel = Principal(Role.DEPT_SYSTEM, "人社局系统", dept_uscc="11410900PY000009XF")
    for principal in (organisation, personnel, AUDITOR, itself(PERSON)):
        assert access_to(principal, gzry, PERSON) is Access.FULL, principal.name
    for principal in (CLERK, SYSTEM, OPERATOR, PUBLIC):
        assert access_to(principal, gzry, PERSON) is Access.NONE, principal.name


def test_readers_are_refused_on_a_public_dataset(catalog: Catalog) -> None:
    data = catalog.dataset("XZCF").model_dump()
    data["readers"] = {"roles": ["auditor"], "basis": "试验"}
    with pytest.raises(ValueError, match="公开公示"):
        Dataset.model_validate(data)


@pytest.mark.parametrize(
    ("dataset", "public", "government"),
    [
        ("XZCF", Access.PUBLIC, Access.FULL),  # 公开公示
        ("XZXK", Access.PUBLIC, Access.FULL),
        ("SXBZX", Access.PUBLIC, Access.FULL),
        ("NSXY", Access.NONE, Access.FULL),  # 政务共享
    ],
)
def test_audience_by_sharing_attribute(
    catalog: Catalog, dataset: str, public: Access, government: Access
) -> None:
    ds = catalog.dataset(dataset)
    assert access_to(PUBLIC, ds, COMPANY) is public
    for principal in GOVERNMENT:
        assert access_to(principal, ds, COMPANY) is government
    assert access_to(itself(COMPANY), ds, COMPANY) is Access.FULL
    # another subject's login is the public, not the subject
    assert access_to(itself(PERSON), ds, COMPANY) is public


def test_authorised_query_needs_the_subjects_authorisation(catalog: Catalog) -> None:
    ds = catalog.dataset("NSXY").model_copy(update={"disclosure": Disclosure.AUTHORISED})
    assert access_to(CLERK, ds, COMPANY) is Access.NONE
    assert access_to(CLERK, ds, COMPANY, authorised=True) is Access.FULL
    assert access_to(PUBLIC, ds, COMPANY, authorised=True) is Access.NONE
    assert access_to(itself(COMPANY), ds, COMPANY) is Access.FULL


def test_a_persons_penalties_and_licences_are_never_public(catalog: Catalog) -> None:
    for code in ("XZCF", "XZXK", "XYCN"):
        assert access_to(PUBLIC, catalog.dataset(code), PERSON) is Access.NONE
        assert access_to(CLERK, catalog.dataset(code), PERSON) is Access.FULL
    assert access_to(PUBLIC, catalog.dataset("SXBZX"), PERSON) is Access.PUBLIC


def test_id_numbers_are_masked_six_and_four() -> None:
    assert mask_id_number("410928199001010012") == "410928********0012"
    assert mask_id_number("41092819900101X") == "410928*****101X"
    assert mask_id_number("4109") == "****"
    assert mask_id_number(None) is None and mask_id_number("") == ""


def test_minor_on_the_decision_date() -> None:
    born = MINOR.id_number
    assert was_minor(born, D("2026-05-31"))
    assert not was_minor(born, D("2026-06-01"))  # the 18th birthday
    leap = make_id("410928", date(2008, 2, 29), 3)
    assert was_minor(leap, D("2026-02-28")) and not was_minor(leap, D("2026-03-01"))
    assert not was_minor(None, D("2026-01-01")) and not was_minor(born, None)


# -- stored records ---------------------------------------------------------------------------


def _subject(conn: Connection, code: str) -> dict[str, Any]:
    return find_subject(conn, code)


def _cf(subject: Company | Citizen, wsh: str, decided: str, **cells: str) -> dict[str, str]:
    """A penalty decided on ``decided`` whose 处罚有效期 does not extend its publicity."""
    row = penalty(subject, wsh, 处罚决定日期=decided, 处罚有效期="2099/12/31")
    row.update(cells)
    return row


def _deliver_people(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    fined = _cf(WANG, "濮市监罚决字〔2026〕00021号", "2026/02/10", **{"罚款金额（万元）": "2"})
    run(engine, catalog, write_csv(tmp_path / "cf.csv", [fined]))
    court = [
        debtor(WANG, "（2025）豫0902执2001号"),
        debtor(MINOR, "（2025）豫0928执2002号"),  # 16 on 2025-03-10
        debtor(MINOR, "（2026）豫0928执2003号", MD_LRRQ="2026-07-01"),  # 18 by then
        debtor(LI, "（2025）豫0928执2004号", MD_YXQZ="2025-09-10"),  # the court's period is over
    ]
    path = write_csv(tmp_path / "zx.csv", court, SXBZX_HEADERS)
    receipt = run(engine, catalog, path, dataset="SXBZX", dept=COURT)
    assert (receipt.new, receipt.rejected) == (4, 0), receipt.rejects


def test_a_person_on_the_court_list_is_shown_with_a_masked_id(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver_people(engine, catalog, tmp_path)
    with engine.connect() as conn:
        wang = _subject(conn, WANG.id_number)
        public = visible_records(conn, catalog, PUBLIC, wang, as_of=ON)
        government = visible_records(conn, catalog, CLERK, wang, as_of=ON)
        shown = present_subject(PUBLIC, wang)
        full = present_subject(CLERK, wang)
    # the penalty (XZCF) is not public; the court list is
    assert [r.dataset for r in public] == ["SXBZX"]
    assert sorted(r.dataset for r in government) == ["SXBZX", "XZCF"]
    items = {i.code: i.value for i in public[0].items}
    assert re.fullmatch(r"410902\*{8}\d{3}[\dX]", items["MD_ZJHM"])
    assert items["MD_ZJHM"] == WANG.id_number[:6] + "********" + WANG.id_number[-4:]
    assert items["MD_ZTMC"] == WANG.name and items["ZX_XB"] == "男"
    assert shown.id_number == items["MD_ZJHM"] and full.id_number == WANG.id_number
    # no public answer echoes the full number back
    text = json.dumps([r.as_dict() for r in public] + [shown.as_dict()], ensure_ascii=False)
    assert WANG.id_number not in text
    gov_items = {i.code: i.value for r in government for i in r.items}
    assert gov_items["MD_ZJHM"] == WANG.id_number


def test_nothing_about_a_minor_is_public(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    _deliver_people(engine, catalog, tmp_path)
    with engine.connect() as conn:
        minor = _subject(conn, MINOR.id_number)
        public = visible_records(conn, catalog, PUBLIC, minor, as_of=ON)
        counts = count_visible(conn, catalog, PUBLIC, minor, as_of=ON)
        government = visible_records(conn, catalog, CLERK, minor, as_of=ON)
        own = visible_records(conn, catalog, itself(minor), minor, as_of=ON)
    # the listing of 2025 (aged 16) never; the one of 2026-07-01 (aged 18) is public
    assert [r.items for r in public if "2025" in str(r.decision_date)] == []
    assert [str(r.decision_date) for r in public] == ["2026-07-01"]
    assert counts == {"SXBZX": 1}
    assert len(government) == len(own) == 2


def test_masked_items_are_hidden_from_the_public(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    headers = [*FRJC_HEADERS, "联系电话", "法定代表人或负责人证件号码"]
    rep_id = make_id("410902", date(1975, 4, 9), 31)
    row = registration(XINYUAN, 联系电话="0393-4412345", 法定代表人或负责人证件号码=rep_id)
    receipt = run(engine, catalog, write_csv(tmp_path / "frjc.csv", [row], headers), dataset="FRJC")
    assert receipt.new == 1, receipt.rejects
    with engine.connect() as conn:
        company = _subject(conn, XINYUAN.uscc)
        (public,) = visible_records(conn, catalog, PUBLIC, company, as_of=ON)
        (government,) = visible_records(conn, catalog, CLERK, company, as_of=ON)
        (own,) = visible_records(conn, catalog, itself(company), company, as_of=ON)
    seen = {i.code: i.value for i in public.items}
    assert "DJ_LXDH" not in seen  # a phone is never public, not even masked
    assert seen["DJ_FR_ZJHM"] == mask_id_number(rep_id)
    assert XINYUAN.name in seen.values()
    for full in (government, own):
        values = {i.code: i.value for i in full.items}
        assert values["DJ_LXDH"] == "0393-4412345" and values["DJ_FR_ZJHM"] == rep_id


def _deliver_company(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    rows = [
        _cf(XINYUAN, "濮市监罚决字〔2026〕00031号", "2026/05/20"),
        _cf(XINYUAN, "濮市监罚决字〔2026〕00032号", "2026/06/02"),
        # GB-22 轻微: its publicity ended on 2025-12-01, before any daily run
        _cf(XINYUAN, "濮市监罚决字〔2025〕00033号", "2025/09/01", 处罚类别="警告"),
        _cf(HENGDA, "濮市监罚决字〔2026〕00034号", "2026/05/20"),
    ]
    receipt = run(engine, catalog, write_csv(tmp_path / "cf.csv", rows))
    assert (receipt.new, receipt.rejected) == (4, 0), receipt.rejects


def test_archived_states_are_for_government_and_the_subject(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver_company(engine, catalog, tmp_path)
    withdrawn = record_by_wsh(engine, "濮市监罚决字〔2026〕00032号")["id"]
    with engine.begin() as conn:
        records_service.withdraw(
            conn, withdrawn, dept_uscc=SAMR.uscc, reason="行政复议撤销", actor="测试"
        )
    with engine.connect() as conn:
        company = _subject(conn, XINYUAN.uscc)
        public = visible_records(conn, catalog, PUBLIC, company, as_of=ON)
        views = {
            p.role: visible_records(conn, catalog, p, company, as_of=ON)
            for p in (*GOVERNMENT, itself(company))
        }
        public_count = count_visible(conn, catalog, PUBLIC, company, as_of=ON)
    assert [r.items[0].value for r in public] == [XINYUAN.name]
    (shown,) = public
    assert shown.state == "公示中" and shown.public_reason is None
    assert public_count == {"XZCF": 1}
    for role, seen in views.items():
        # the 警告 of 2025 is past its last day: it reads 期满 before any daily run
        states = sorted(r.state for r in seen)
        assert states == ["公示中", "已撤销", "期满停止公示"], role
        reasons = {r.state: r.public_reason for r in seen}
        assert reasons["已撤销"] == "决定已撤销，已停止公示"
        assert reasons["期满停止公示"] == "公示期满，已停止公示"


def test_publicity_dates_are_shown_and_the_end_is_kept(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver_company(engine, catalog, tmp_path)
    with engine.connect() as conn:
        company = _subject(conn, XINYUAN.uscc)
        on_last_day = visible_records(conn, catalog, PUBLIC, company, as_of=D("2025-12-01"))
        after = visible_records(conn, catalog, PUBLIC, company, as_of=D("2025-12-02"))
        default_today = visible_records(conn, catalog, PUBLIC, company)
    # the 警告 of 2025-09-01 (ends 2025-12-01) is public on its last day, not after it
    assert "濮市监罚决字〔2025〕00033号" in _numbers(on_last_day)
    assert "濮市监罚决字〔2025〕00033号" not in _numbers(after)
    assert "濮市监罚决字〔2025〕00033号" not in _numbers(default_today)
    record: ShownRecord = next(r for r in after if "濮市监罚决字〔2026〕00031号" in _numbers([r]))
    assert (record.publicity_min_end, record.publicity_max_end) == (
        D("2026-08-20"),
        D("2027-05-20"),
    )
    data = record.as_dict()
    assert (data["publicity_min_end"], data["publicity_max_end"]) == ("2026-08-20", "2027-05-20")
    assert data["publicity_long_term"] is False and data["public_reason"] is None


def _numbers(shown: list[ShownRecord]) -> set[str]:
    return {i.value for r in shown for i in r.items if i.code == "CF_WSH"}


def test_the_court_list_ends_when_the_court_says(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _deliver_people(engine, catalog, tmp_path)
    with engine.connect() as conn:
        li = _subject(conn, LI.id_number)
        assert visible_records(conn, catalog, PUBLIC, li, as_of=D("2025-09-10")) != []
        assert visible_records(conn, catalog, PUBLIC, li, as_of=ON) == []
        assert len(visible_records(conn, catalog, CLERK, li, as_of=ON)) == 1
        wang = _subject(conn, WANG.id_number)
        (listed,) = visible_records(conn, catalog, PUBLIC, wang, as_of=ON)
    assert listed.long_term and listed.as_dict()["publicity_long_term"] is True
