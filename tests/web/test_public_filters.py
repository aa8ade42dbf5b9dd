"""Public filters see only what the public sees (issue 11, item 1).

Each public listing is probed, on the API and on the page, with fragments of a value the public
must never see whole (a legal representative's or a listed person's ID number, shown masked):
a filter that matched over the stored record would answer "found" for the right fragment and
"nothing" for a wrong one, and so rebuild the number digit by digit. Every filter is a choice
among enumerated options (by code or label) or an exact department code; anything else is a
clear 400.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from disclosure.rows import COURT, SXBZX_HEADERS, debtor
from fastapi.testclient import TestClient
from fixtures.deliveries import WANG, XINYUAN, make_id, penalty, run, write_csv
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.sample import files as sample_files
from xinyong.sample.datasets import PENALTY_HEADERS, Dept, licence_rows
from xinyong.sample.world import World

# Synthetic (not a real person's number): the legal representative of the test companies.
REP_ID = make_id("410902", date(1969, 7, 21), 338)


def _seed(engine: Engine, catalog: Catalog, folder: Path) -> None:
    headers = [*PENALTY_HEADERS, "CF_FR_ZJLX", "CF_FR_ZJHM"]
    row = penalty(
        XINYUAN,
        处罚类别="警告;罚款",
        处罚决定日期="2026/10/01",  # in publicity on the tests' clock (fixtures.deliveries.TODAY)
        处罚有效期="2027/10/01",
        CF_FR_ZJLX="身份证",
        CF_FR_ZJHM=REP_ID,
    )
    receipt = run(engine, catalog, write_csv(folder / "xzcf.csv", [row], headers))
    assert (receipt.new, receipt.rejected) == (1, 0), receipt.rejects

    licensor = next(d for d in catalog.seed_departments.values() if "XZXK" in d.datasets)
    dept = Dept(licensor.uscc, licensor.name)
    made = list(licence_rows(World(7, organisations=3, persons=1), dept, 1))
    made[0].cells.update(
        {
            "许可类别": "特许",
            "许可决定日期": "2026/10/01",
            "有效期自": "2026/10/01",
            "有效期至": "2031/09/30",
            "XK_FR_ZJLX": "身份证",
            "XK_FR_ZJHM": REP_ID,
        }
    )
    path = folder / "xzxk.csv"
    sample_files.write_csv(path, list(made[0].cells), made, "utf-8")
    receipt = run(engine, catalog, path, dataset="XZXK", dept=dept)
    assert (receipt.new, receipt.rejected) == (1, 0), receipt.rejects

    court = [debtor(WANG, "（2025）豫0902执2001号")]
    path = write_csv(folder / "sxbzx.csv", court, SXBZX_HEADERS)
    receipt = run(engine, catalog, path, "SXBZX", COURT)
    assert (receipt.new, receipt.rejected) == (1, 0), receipt.rejects


def _probes(hidden: str) -> list[str]:
    """Fragments an attacker would try: the revealed head plus one more digit (right and
    wrong), and the hidden middle alone."""
    head = hidden[:6]
    return [head + hidden[6], head + str((int(hidden[6]) + 1) % 10), hidden[6:14], hidden]


# (API path, page path, a hidden value it holds, its filters)
LISTINGS = [
    ("/api/v1/publicity/xzcf", "/publicity/xzcf", REP_ID, ("type", "dept")),
    ("/api/v1/publicity/xzxk", "/publicity/xzxk", REP_ID, ("type", "dept")),
    ("/api/v1/lists/black", "/lists/black", WANG.id_number, ("dept",)),
    ("/api/v1/lists/red", "/lists/red", REP_ID, ("dept",)),
]


def test_no_public_filter_reaches_a_hidden_value(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _seed(engine, catalog, tmp_path)
    for api_path, page_path, hidden, filters in LISTINGS:
        shown = client.get(api_path).json()
        assert hidden not in str(shown)  # the value is hidden to begin with
        for name in filters:
            for probe in _probes(hidden):
                answer = client.get(api_path, params={name: probe})
                if answer.status_code == 200:
                    assert answer.json()["total"] == 0, (api_path, name, probe)
                else:
                    assert answer.status_code in (400, 422), (api_path, name, probe)
                    assert answer.json()["error"]["code"] in ("TYPE_INVALID", "REQUEST_INVALID")
                page = client.get(page_path, params={name: probe})
                assert page.status_code in (200, 400, 422), (page_path, name, probe)
                assert "Traceback" not in page.text
                if page.status_code == 200:
                    assert "没有符合条件" in page.text or "暂无" in page.text, (page_path, name)


def test_the_type_filter_is_an_enumerated_option_by_code_or_label(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _seed(engine, catalog, tmp_path)
    # 处罚类别 is multi-valued ("警告;罚款"): each option finds it, by label or by code.
    for value in ("罚款", "03", "警告", "01"):
        assert client.get("/api/v1/publicity/xzcf", params={"type": value}).json()["total"] == 1
    # a label that is a substring of the stored text but not an option finds nothing: 400
    for value in ("罚", "警告;罚款", "款"):
        refused = client.get("/api/v1/publicity/xzcf", params={"type": value})
        assert refused.status_code == 400, value
        assert refused.json()["error"]["code"] == "TYPE_INVALID"
        assert "可选" in refused.json()["error"]["message"]
    other = client.get("/api/v1/publicity/xzcf", params={"type": "没收违法所得"})
    assert other.json()["total"] == 0
    assert client.get("/api/v1/publicity/xzxk", params={"type": "02"}).json()["total"] == 1
    assert client.get("/api/v1/publicity/xzxk", params={"type": "普通"}).json()["total"] == 0
    # the page takes the same values and refuses the same way
    assert client.get("/publicity/xzcf", params={"type": "03"}).status_code == 200
    assert client.get("/publicity/xzcf", params={"type": "罚"}).status_code == 400


def test_an_uncounted_filtered_page_says_so_in_chinese() -> None:
    # a filtered answer longer than a page is not counted (issue 13): its first page says
    # there is more than a page instead of a total; a later page says nothing of a count
    from xinyong.web.pages.public import _key_pager
    from xinyong.web.render import TEMPLATES

    pager = TEMPLATES.env.get_template("_pager.html")
    first = {"total": None, "total_capped": False, "prev": None, "next": "20261001.9"}
    shown = pager.render(pager=_key_pager(first, "/publicity/xzcf", {"type": "罚款"}))
    assert "符合条件的记录不止一页，未统计总数" in shown and "下一页" in shown
    later = {**first, "prev": "20261002.10"}
    shown = pager.render(pager=_key_pager(later, "/publicity/xzcf", {"type": "罚款"}))
    assert "未统计总数" not in shown and "共" not in shown and "上一页" in shown
    counted = {"total": 1000, "total_capped": True, "prev": None, "next": "20261001.9"}
    assert "共 1,000 条以上" in pager.render(pager=_key_pager(counted, "/publicity/xzcf", {}))
