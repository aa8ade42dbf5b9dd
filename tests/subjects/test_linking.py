"""Linking delivered rows to subjects (信用主体): by 统一社会信用代码, through the old
组织机构代码 and the 工商注册号, ID numbers as 18 digits; the three databases; the pending
queue for rows without any code."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import (
    FRJC_HEADERS,
    HENGDA,
    LI,
    LONGDU,
    ORGANISATION_DEPT,
    SAMR,
    SHOP,
    TOWNSHIP,
    WANG,
    XINYUAN,
    Citizen,
    Company,
    all_subjects,
    codes_by_row,
    make_id,
    make_id15,
    penalty,
    record_by_wsh,
    registration,
    run,
    stored_records,
    write_csv,
)
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.errors import NotFound
from xinyong.records import service as records
from xinyong.subjects.service import candidates_by_name, find_subject

USCC = "行政相对人代码_1(统一社会信用代码)"
REG_NO = "行政相对人代码_2(工商注册号)"
ORG_CODE = "行政相对人代码_3(组织机构代码)"


def only_org_code(company: Company, wsh: str, org_code: str | None = None, **cells: str) -> dict:
    return penalty(company, wsh, **{USCC: "", ORG_CODE: org_code or company.org_code, **cells})


def only_reg_no(company: Company, wsh: str, **cells: str) -> dict:
    return penalty(company, wsh, **{USCC: "", REG_NO: company.reg_no, **cells})


def no_code(company: Company, wsh: str, **cells: str) -> dict:
    return penalty(company, wsh, **{USCC: "", **cells})


def subject_of(engine: Engine, code: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return find_subject(conn, code)


def deliver(engine: Engine, catalog: Catalog, tmp_path: Path, name: str, rows: list[dict]) -> Any:
    return run(engine, catalog, write_csv(tmp_path / name, rows))


def register(engine: Engine, catalog: Catalog, tmp_path: Path, name: str, rows: list[dict]) -> Any:
    return run(engine, catalog, write_csv(tmp_path / name, rows, FRJC_HEADERS), "FRJC")


# -- by code ----------------------------------------------------------------------------------


def test_rows_with_one_uscc_link_to_one_subject(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(HENGDA, "濮市监罚决字〔2023〕00102号"),
        # the same company, its code written in lower case with spaces, its name in half width
        penalty(
            XINYUAN,
            "濮市监罚决字〔2023〕00103号",
            **{USCC: f" {XINYUAN.uscc.lower()} "},
        ),
    ]
    receipt = deliver(engine, catalog, tmp_path, "a.csv", rows)
    assert receipt.new == 3, receipt.rejects
    assert len(all_subjects(engine)) == 2
    subject = subject_of(engine, XINYUAN.uscc)
    assert subject["uscc"] == XINYUAN.uscc
    assert subject["org_code"] == XINYUAN.org_code
    assert subject["name"] == XINYUAN.name
    assert (subject["category"], subject["database"]) == ("法人及非法人组织", "法人")
    mine = {r["data"]["CF_WSH"] for r in stored_records(engine) if r["subject_id"] == subject["id"]}
    assert mine == {"濮市监罚决字〔2023〕00101号", "濮市监罚决字〔2023〕00103号"}


def test_an_old_organisation_code_links_to_the_subject_of_its_uscc(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    deliver(engine, catalog, tmp_path, "a.csv", [penalty(XINYUAN, "濮市监罚决字〔2023〕00101号")])
    hyphenated = f"{XINYUAN.org_code[:8]}-{XINYUAN.org_code[8]}"  # as the old certificates print it
    rows = [
        only_org_code(XINYUAN, "濮市监罚决字〔2023〕00102号"),
        only_org_code(XINYUAN, "濮市监罚决字〔2023〕00103号", hyphenated),
    ]
    receipt = deliver(engine, catalog, tmp_path, "b.csv", rows)
    assert (receipt.new, receipt.pending) == (2, 0), receipt.rejects
    (subject,) = all_subjects(engine)
    assert {r["subject_id"] for r in stored_records(engine)} == {subject["id"]}
    assert subject["uscc"] == XINYUAN.uscc
    assert subject_of(engine, XINYUAN.org_code)["id"] == subject["id"]


def test_an_organisation_code_first_and_the_uscc_later_is_one_subject(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    wsh = "濮市监罚决字〔2015〕00031号"
    deliver(engine, catalog, tmp_path, "a.csv", [only_org_code(XINYUAN, wsh)])
    (before,) = all_subjects(engine)
    assert (before["uscc"], before["org_code"]) == (None, XINYUAN.org_code)

    # the company got its USCC: a new decision and the old one resent with the new code
    rows = [penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"), penalty(XINYUAN, wsh)]
    receipt = deliver(engine, catalog, tmp_path, "b.csv", rows)
    assert (receipt.new, receipt.updated) == (1, 1), receipt.rejects  # the old one: same record
    (after,) = all_subjects(engine)
    assert after["id"] == before["id"]
    assert (after["uscc"], after["org_code"]) == (XINYUAN.uscc, XINYUAN.org_code)
    assert len(stored_records(engine)) == 2
    assert subject_of(engine, XINYUAN.uscc)["id"] == before["id"]


def test_a_registration_number_links_through_the_registration_dataset(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    register(engine, catalog, tmp_path, "frjc.csv", [registration(XINYUAN), registration(HENGDA)])
    receipt = deliver(
        engine, catalog, tmp_path, "a.csv", [only_reg_no(XINYUAN, "濮市监罚决字〔2014〕00007号")]
    )
    assert (receipt.new, receipt.pending) == (1, 0), receipt.rejects
    assert len(all_subjects(engine)) == 2
    subject = subject_of(engine, XINYUAN.uscc)
    assert subject["reg_no"] == XINYUAN.reg_no
    assert record_by_wsh(engine, "濮市监罚决字〔2014〕00007号")["subject_id"] == subject["id"]
    assert subject_of(engine, XINYUAN.reg_no)["id"] == subject["id"]


def test_a_registration_number_first_and_the_registration_later_is_one_subject(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    deliver(
        engine, catalog, tmp_path, "a.csv", [only_reg_no(XINYUAN, "濮市监罚决字〔2014〕00007号")]
    )
    (before,) = all_subjects(engine)
    assert (before["uscc"], before["reg_no"]) == (None, XINYUAN.reg_no)
    register(engine, catalog, tmp_path, "frjc.csv", [registration(XINYUAN)])
    (after,) = all_subjects(engine)
    assert after["id"] == before["id"]
    assert (after["uscc"], after["reg_no"], after["status"]) == (
        XINYUAN.uscc,
        XINYUAN.reg_no,
        "存续",
    )
    # and a later decision with the USCC joins them
    deliver(engine, catalog, tmp_path, "b.csv", [penalty(XINYUAN, "濮市监罚决字〔2023〕00101号")])
    assert {r["subject_id"] for r in stored_records(engine, "XZCF")} == {before["id"]}


def test_former_names_from_the_registration_are_kept(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    row = registration(XINYUAN, 曾用名="濮阳市华龙区鑫源商行；濮阳市鑫源商贸部")
    register(engine, catalog, tmp_path, "frjc.csv", [row])
    subject = subject_of(engine, XINYUAN.uscc)
    assert subject["name"] == XINYUAN.name
    former = {n["name"] for n in subject["names"] if n["kind"] == "former"}
    assert former == {"濮阳市华龙区鑫源商行", "濮阳市鑫源商贸部"}

    # a department still writing the former name links by code, and does not rename it
    receipt = deliver(
        engine,
        catalog,
        tmp_path,
        "a.csv",
        [penalty(XINYUAN, 行政相对人名称="濮阳市华龙区鑫源商行")],
    )
    assert receipt.new == 1
    subject = subject_of(engine, XINYUAN.uscc)
    assert subject["name"] == XINYUAN.name
    assert {n["name"] for n in subject["names"] if n["kind"] == "former"} == former
    with engine.connect() as conn:
        assert [c["id"] for c in candidates_by_name(conn, "濮阳市华龙区鑫源商行")] == [
            subject["id"]
        ]


def test_a_renamed_company_keeps_its_old_name(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    register(engine, catalog, tmp_path, "a.csv", [registration(XINYUAN)])
    renamed = registration(XINYUAN, 机构名称="河南鑫源供应链管理有限公司")
    register(engine, catalog, tmp_path, "b.csv", [renamed])
    subject = subject_of(engine, XINYUAN.uscc)
    assert subject["name"] == "河南鑫源供应链管理有限公司"
    assert [(n["name"], n["kind"]) for n in subject["names"]] == [(XINYUAN.name, "former")]
    with engine.connect() as conn:
        assert [c["id"] for c in candidates_by_name(conn, XINYUAN.name)] == [subject["id"]]


def test_names_are_matched_in_their_normal_form(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    company = Company("濮阳市华龙区鑫源商贸有限公司（开州路分公司）", XINYUAN.uscc, "", "刘志强")
    deliver(engine, catalog, tmp_path, "a.csv", [penalty(company, "濮市监罚决字〔2023〕00101号")])
    # spelling variants of the same name are not new names of the subject
    variants = [
        "濮阳市华龙区鑫源商贸有限公司(开州路分公司)",
        " 濮阳市华龙区 鑫源商贸有限公司〔开州路分公司〕",
    ]
    rows = [
        penalty(company, f"濮市监罚决字〔2023〕0020{i}号", 行政相对人名称=name)
        for i, name in enumerate(variants)
    ]
    # another spelling is remembered as one the departments use
    rows.append(
        penalty(company, "濮市监罚决字〔2023〕00210号", 行政相对人名称="鑫源商贸开州路分公司")
    )
    deliver(engine, catalog, tmp_path, "b.csv", rows)
    subject = subject_of(engine, XINYUAN.uscc)
    assert [(n["name"], n["kind"]) for n in subject["names"]] == [("鑫源商贸开州路分公司", "seen")]
    with engine.connect() as conn:
        for spelling in [
            *variants,
            "濮阳市华龙区鑫源商贸有限公司（开州路分公司）",
            "鑫源商贸开州路分公司",
        ]:
            assert [c["id"] for c in candidates_by_name(conn, spelling)] == [subject["id"]]
        assert candidates_by_name(conn, "濮阳市华龙区鑫源商贸有限公司") == []


def test_id_numbers_link_as_18_digits(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    birth = date(1962, 9, 30)
    old = Citizen("冯桂英", make_id15("410928", birth, 328))
    new = Citizen("冯桂英", make_id("410928", birth, 328))
    rows = [
        penalty(old, "濮市监罚决字〔2012〕00011号"),
        penalty(new, "濮市监罚决字〔2023〕00101号"),
        penalty(new, "濮市监罚决字〔2023〕00102号", 证件号码=new.id_number.lower()),
    ]
    receipt = deliver(engine, catalog, tmp_path, "a.csv", rows)
    assert receipt.new == 3, receipt.rejects
    (subject,) = all_subjects(engine)
    assert subject["id_number"] == new.id_number
    assert (subject["category"], subject["database"]) == ("自然人", "自然人")
    assert subject_of(engine, old.id_number)["id"] == subject["id"]
    assert subject_of(engine, new.id_number)["id"] == subject["id"]


# -- the three databases -----------------------------------------------------------------------

GZRY_HEADERS = [
    "姓名",
    "证件类型",
    "证件号码",
    "工作单位",
    "单位统一社会信用代码",
    "职务",
    "记录类型",
    "记录内容",
    "认定机关",
    "认定机关统一社会信用代码",
    "认定日期",
    "文书号",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
]


def test_each_subject_lands_in_its_database(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        penalty(SHOP, "濮市监罚决字〔2023〕00102号"),
        penalty(TOWNSHIP, "濮市监罚决字〔2023〕00103号", 法定代表人="孙明"),
        penalty(WANG, "濮市监罚决字〔2023〕00104号"),
    ]
    receipt = deliver(engine, catalog, tmp_path, "a.csv", rows)
    assert receipt.new == 4, receipt.rejects
    dept = ORGANISATION_DEPT
    gzry = {
        "姓名": LI.name,
        "证件类型": "身份证",
        "证件号码": LI.id_number,
        "工作单位": TOWNSHIP.name,
        "单位统一社会信用代码": TOWNSHIP.uscc,
        "职务": "副镇长",
        "记录类型": "表彰奖励",
        "记录内容": "2023年度考核优秀等次",
        "认定机关": dept.name,
        "认定机关统一社会信用代码": dept.uscc,
        "认定日期": "2024/01/15",
        "文书号": "濮组〔2024〕3号",
        "数据来源单位": dept.name,
        "数据来源单位统一社会信用代码": dept.uscc,
    }
    receipt = run(
        engine, catalog, write_csv(tmp_path / "g.csv", [gzry], GZRY_HEADERS), "GZRY", dept
    )
    assert receipt.new == 1, receipt.rejects

    def where(code: str) -> tuple[str, str]:
        s = subject_of(engine, code)
        return s["category"], s["database"]

    assert where(XINYUAN.uscc) == ("法人及非法人组织", "法人")
    assert where(SHOP.uscc) == ("个体工商户", "法人")  # prefix 92
    assert where(TOWNSHIP.uscc) == ("法人及非法人组织", "政务")  # prefix 11
    assert where(WANG.id_number) == ("自然人", "自然人")
    databases = {
        r["data"].get("CF_WSH") or r["data"]["GZ_WSH"]: r["database"]
        for r in stored_records(engine)
    }
    assert databases == {
        "濮市监罚决字〔2023〕00101号": "法人",
        "濮市监罚决字〔2023〕00102号": "法人",
        "濮市监罚决字〔2023〕00103号": "政务",
        "濮市监罚决字〔2023〕00104号": "自然人",
        "濮组〔2024〕3号": "政务",  # 公职人员诚信档案: the government-affairs database
    }


def test_the_code_decides_an_individual_business_not_the_category_written(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    row = penalty(SHOP, 行政相对人类别="法人及非法人组织")
    receipt = deliver(engine, catalog, tmp_path, "a.csv", [row])
    assert receipt.new == 1
    (warning,) = receipt.warnings
    assert (warning["code"], warning["row"], warning["field"]) == (
        "CATEGORY_MISMATCH",
        2,
        "CF_XDR_LB",
    )
    assert subject_of(engine, SHOP.uscc)["category"] == "个体工商户"


def test_registering_an_individual_business_warns_about_nothing(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    receipt = register(engine, catalog, tmp_path, "frjc.csv", [registration(SHOP)])
    assert receipt.new == 1
    assert subject_of(engine, SHOP.uscc)["category"] == "个体工商户"
    assert receipt.warnings == []


# -- pending ----------------------------------------------------------------------------------


def test_a_row_without_any_code_waits_for_a_clerk(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    deliver(engine, catalog, tmp_path, "a.csv", [penalty(HENGDA, "濮市监罚决字〔2023〕00100号")])
    rows = [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00101号"),
        no_code(HENGDA, "濮市监罚决字〔2023〕00102号"),
    ]
    path = write_csv(tmp_path / "b.csv", rows)
    receipt = run(engine, catalog, path)
    assert (receipt.received, receipt.new, receipt.pending, receipt.rejected) == (2, 1, 1, 0)
    with engine.connect() as conn:
        (waiting,) = records.pending(conn)
        assert records.pending(conn, dataset="XZXK") == []
        suggested = records.suggestions(conn, catalog, waiting)
    assert waiting["data"]["CF_WSH"] == "濮市监罚决字〔2023〕00102号"
    assert waiting["dept_uscc"] == SAMR.uscc
    assert (waiting["batch_id"], waiting["row_no"]) == (receipt.batch_id, 3)
    assert "待人工关联" in waiting["pending_reason"]
    # the clerk is offered the subject of the same name
    assert [s["uscc"] for s in suggested] == [HENGDA.uscc]

    with engine.begin() as conn:
        linked = records.link_pending(conn, catalog, waiting["id"], HENGDA.uscc, actor="信用办李娜")
    subject = subject_of(engine, HENGDA.uscc)
    assert linked["subject_id"] == subject["id"]
    assert linked["pending_reason"] is None
    assert linked["database"] == "法人"
    assert linked["version"] == 2
    with engine.connect() as conn:
        assert records.pending(conn) == []
        (before,) = records.history(conn, waiting["id"])
    assert before["subject_id"] is None
    assert "关联主体" in before["change"]
    assert len(all_subjects(engine)) == 2


def test_linking_a_pending_record_creates_its_subject_when_new(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    receipt = deliver(
        engine, catalog, tmp_path, "a.csv", [no_code(LONGDU, "濮市监罚决字〔2023〕00103号")]
    )
    assert receipt.pending == 1
    assert all_subjects(engine) == []
    (record,) = stored_records(engine)
    with engine.begin() as conn:
        records.link_pending(conn, catalog, record["id"], LONGDU.uscc, actor="信用办")
    (subject,) = all_subjects(engine)
    assert (subject["uscc"], subject["name"], subject["database"]) == (
        LONGDU.uscc,
        LONGDU.name,
        "法人",
    )
    assert record_by_wsh(engine, "濮市监罚决字〔2023〕00103号")["subject_id"] == subject["id"]


def test_resending_the_same_file_after_a_link_changes_nothing(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", [no_code(LONGDU, "濮市监罚决字〔2023〕00103号")])
    run(engine, catalog, path)
    (record,) = stored_records(engine)
    with engine.begin() as conn:
        records.link_pending(conn, catalog, record["id"], LONGDU.uscc, actor="信用办")
    again = run(engine, catalog, path)
    assert (again.unchanged, again.pending, again.new) == (1, 0, 0)
    assert len(stored_records(engine)) == 1


def test_after_a_link_the_corrected_row_with_its_code_is_the_same_record(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    wsh = "濮市监罚决字〔2023〕00103号"
    run(engine, catalog, write_csv(tmp_path / "a.csv", [no_code(LONGDU, wsh)]))
    (record,) = stored_records(engine)
    with engine.begin() as conn:
        records.link_pending(conn, catalog, record["id"], LONGDU.uscc, actor="信用办")
    corrected = run(engine, catalog, write_csv(tmp_path / "b.csv", [penalty(LONGDU, wsh)]))
    assert (corrected.new, corrected.pending) == (0, 0)
    assert corrected.updated + corrected.unchanged == 1
    (record,) = stored_records(engine)
    assert record["subject_id"] == subject_of(engine, LONGDU.uscc)["id"]


@pytest.mark.parametrize(
    ("cells", "code"),
    [
        ({USCC: XINYUAN.uscc[:-1] + ("0" if XINYUAN.uscc[-1] != "0" else "1")}, "USCC_CHECK"),
        ({USCC: XINYUAN.uscc[:17]}, "USCC_LENGTH"),
        ({USCC: "", ORG_CODE: XINYUAN.org_code[:8] + "0"}, "ORG_CHECK"),
        ({USCC: "", REG_NO: XINYUAN.reg_no[:14] + "9"}, "REGNO_CHECK"),
    ],
)
def test_a_wrong_code_is_a_rejection_not_pending(
    engine: Engine, catalog: Catalog, tmp_path: Path, cells: dict[str, str], code: str
) -> None:
    if cells.get(ORG_CODE) == XINYUAN.org_code or cells.get(REG_NO) == XINYUAN.reg_no:
        pytest.skip("the mutated code happens to be valid")
    receipt = deliver(engine, catalog, tmp_path, "a.csv", [penalty(XINYUAN, **cells)])
    assert (receipt.pending, receipt.rejected) == (0, 1)
    assert codes_by_row(receipt) == {2: {code}}
    assert stored_records(engine) == []
    assert all_subjects(engine) == []


def test_a_wrong_id_number_is_a_rejection_not_pending(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    bad = Citizen(WANG.name, WANG.id_number[:6] + "19780230" + WANG.id_number[14:])
    receipt = deliver(engine, catalog, tmp_path, "a.csv", [penalty(bad)])
    assert (receipt.pending, receipt.rejected) == (0, 1)
    assert receipt.rejects[0]["field"] == "CF_XDR_ZJHM"
    assert stored_records(engine) == []


def test_unknown_codes_find_nothing(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(NotFound) as exc:
        find_subject(conn, XINYUAN.uscc)
    assert exc.value.code == "SUBJECT_NOT_FOUND"


def test_a_rejected_registration_row_does_not_change_the_subject(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    from fixtures.deliveries import COUNTY_SAMR

    register(engine, catalog, tmp_path, "a.csv", [registration(XINYUAN)])
    county = registration(XINYUAN, COUNTY_SAMR, 登记状态="吊销", 机构名称="濮阳县鑫源商贸有限公司")
    receipt = run(
        engine, catalog, write_csv(tmp_path / "b.csv", [county], FRJC_HEADERS), "FRJC", COUNTY_SAMR
    )
    assert codes_by_row(receipt) == {2: {"RECORD_NOT_OWNER"}}
    subject = subject_of(engine, XINYUAN.uscc)
    assert (subject["name"], subject["status"]) == (XINYUAN.name, "存续")
