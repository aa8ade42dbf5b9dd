"""Spreadsheets, CSV files and logs that cannot attack their reader (issue 11, item 7).

A name like ``=HYPERLINK(…)`` sent by one department or typed by a requester comes back in
every file we write as inert text; the access log never holds an ID number; names are stored
without invisible characters, found by search and checks, and the receipt says so.
"""

from __future__ import annotations

import csv
import logging
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, WANG, XINYUAN, penalty, run, write_csv
from fixtures.web import login, make_account
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.checks.files import write_bulk_result
from xinyong.checks.service import run_bulk_check
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.sample.datasets import PENALTY_HEADERS
from xinyong.subjects.models import subjects
from xinyong.subjects.names import clean_name, normalize_name
from xinyong.web.logs import ACCESS_LOGGER

FORMULA = '=HYPERLINK("http://evil.example/x","点击查看")'
HOSTILE = [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1", "＝1+1"]


def _rejects(path: Path) -> list[list[str]]:
    if path.suffix == ".xlsx":
        ws = load_workbook(path).worksheets[0]
        rows = list(ws.iter_rows())
        for row in rows:
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
        return [["" if c.value is None else str(c.value) for c in row] for row in rows]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rejects_files_hold_hostile_cells_as_text(
    engine: Engine, catalog: Catalog, tmp_path: Path, fmt: str
) -> None:
    # rows rejected (no 处罚决定书文号) whose other cells are formulas
    rows = [penalty(XINYUAN, "", 违法事实=v) for v in HOSTILE]
    source = write_csv(tmp_path / "in.csv", rows)
    if fmt == "xlsx":  # the hostile cells as text cells, as a department's Excel holds them
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("数据")
        ws.append(PENALTY_HEADERS)
        for r in rows:
            cells = []
            for h in PENALTY_HEADERS:
                cell = WriteOnlyCell(ws, value=r.get(h, ""))
                cell.data_type = "s"
                cells.append(cell)
            ws.append(cells)
        source = tmp_path / "in.xlsx"
        wb.save(source)
    out = tmp_path / f"rejects.{fmt}"
    receipt = run(engine, catalog, source, rejects_path=out)
    assert receipt.rejected == len(HOSTILE)
    table = _rejects(out)
    facts = table[0].index("违法事实")
    for row, value in zip(table[1:], HOSTILE, strict=True):
        # shown as typed (line ends as the file's own), never evaluated
        assert row[facts][:1] == "'" and row[facts][1:].strip() == value.strip(), row[facts]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_bulk_check_results_hold_hostile_names_as_text(
    engine: Engine, catalog: Catalog, tmp_path: Path, suffix: str
) -> None:
    clerk = Principal(role=Role.CLERK, name="env-clerk", dept_uscc="11410900PY00000577")
    with engine.begin() as conn:
        result = run_bulk_check(
            conn,
            catalog,
            load_measures(measures_dir(catalog), catalog),
            clerk,
            [(None, v) for v in HOSTILE],
            matter="licensing",
            today=date(2026, 11, 2),
        )
    out = tmp_path / f"result{suffix}"
    write_bulk_result(out, result.rows)
    table = _rejects(out)
    given = [row[1] for row in table[1:]]
    assert not any(g.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for g in given), given
    assert FORMULA not in given and "'" + FORMULA in given


def test_audit_export_holds_typed_usernames_as_text(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    from fixtures.web import csrf_of

    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"username": FORMULA, "password": "x" * 12, "csrf_token": token})
    make_account(engine, catalog, "auditor.one", Role.AUDITOR)
    login(client, "auditor.one")
    exported = client.get("/audit/export.csv")
    assert exported.status_code == 200
    cells = [c for row in csv.reader(exported.text.lstrip("\ufeff").splitlines()) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), [
        c for c in cells if c[:1] in "=+-@"
    ]


def test_the_access_log_never_holds_an_id_number(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    # uvicorn's own call (uvicorn/protocols/http/*_impl.py), on the logger the app filtered
    logging.getLogger(ACCESS_LOGGER).info(
        '%s - "%s %s HTTP/%s" %d',
        "1.2.3.4:5",
        "GET",
        f"/search?q={WANG.id_number}&page=2",
        "1.1",
        200,
    )
    logging.getLogger(ACCESS_LOGGER).info(
        '%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", f"/check/{WANG.id_number}", "1.1", 404
    )
    assert WANG.id_number not in caplog.text
    assert WANG.id_number[:15] not in caplog.text
    assert "/search?q=*&page=*" in caplog.text


def test_names_are_stored_clean_found_and_warned(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    hidden = "濮阳市华龙区鑫\u200b源商\u202e贸有限公司"
    row = penalty(XINYUAN, 行政相对人名称=hidden)
    receipt = run(engine, catalog, write_csv(tmp_path / "p.csv", [row], PENALTY_HEADERS))
    assert receipt.new == 1
    warned = [w for w in receipt.warnings if w["code"] == "NAME_NORMALISED"]
    assert warned and warned[0]["row"] == 2
    with engine.connect() as conn:
        name = conn.execute(select(subjects.c.name).where(subjects.c.uscc == XINYUAN.uscc)).scalar()
    assert name == XINYUAN.name
    found = client.get("/api/v1/subjects", params={"q": "鑫源商贸"}).json()
    assert [i["name"] for i in found["items"]] == [XINYUAN.name]
    # an ordinary name with full-width brackets is stored as written and not warned about
    assert clean_name("濮阳县（有限合伙）ＡＢ") == ("濮阳县（有限合伙）ＡＢ", False)
    assert normalize_name("鑫\u200d源\u2066") == normalize_name("鑫源")


def test_no_warning_for_an_ordinary_name(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    receipt = run(engine, catalog, write_csv(tmp_path / "p.csv", [penalty(XINYUAN)]))
    assert not [w for w in receipt.warnings if w["code"] == "NAME_NORMALISED"]
    assert receipt.new == 1 and SAMR.uscc
