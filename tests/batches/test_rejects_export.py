"""A clerk who did not ask for a rejects file at delivery time can have it later, the same."""

from __future__ import annotations

from pathlib import Path

from fixtures.deliveries import (
    LONGDU,
    XINYUAN,
    penalty,
    read_csv,
    run,
    write_csv,
)
from sqlalchemy import Engine

from xinyong.batches.readers import open_source
from xinyong.batches.rejects import REASON_COLUMN
from xinyong.batches.service import export_rejects
from xinyong.catalog.loader import Catalog
from xinyong.sample.datasets import PENALTY_HEADERS


def _rows() -> list[dict[str, str]]:
    return [
        penalty(XINYUAN, "濮市监罚决字〔2023〕00201号"),
        penalty(LONGDU, "濮市监罚决字〔2023〕00202号", 处罚决定日期="2023-02-30"),
    ]


def test_a_past_batchs_rejects_are_written_again_as_at_delivery(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "处罚.csv", _rows(), encoding="gbk")
    at_delivery = tmp_path / "当时.csv"
    receipt = run(engine, catalog, path, rejects_path=at_delivery)
    later = tmp_path / "之后.csv"
    with engine.connect() as conn:
        assert receipt.batch_id is not None
        count = export_rejects(conn, catalog, receipt.batch_id, later)
    assert count == 1
    assert later.read_bytes() == at_delivery.read_bytes()  # same format, same GBK bytes
    (row,) = read_csv(later, "gb18030")
    assert row["行政处罚决定书文号"] == "濮市监罚决字〔2023〕00202号"
    assert "2023-02-30" in row[REASON_COLUMN]


def test_short_rows_and_a_resent_rejects_file_keep_the_reason_under_its_header(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    # a row that stops before the last columns (trailing empties cut off by the export)
    path = tmp_path / "短行.csv"
    full = ",".join(PENALTY_HEADERS)
    bad = penalty(LONGDU, "濮市监罚决字〔2023〕00203号", 处罚决定日期="2023-02-30")
    cells = [bad.get(h, "") for h in PENALTY_HEADERS]
    while cells and not cells[-1]:
        cells.pop()
    path.write_text(full + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    out = tmp_path / "被拒绝.csv"
    run(engine, catalog, path, rejects_path=out)
    (row,) = read_csv(out, "utf-8")
    assert list(row) == [*PENALTY_HEADERS, REASON_COLUMN]
    assert "2023-02-30" in row[REASON_COLUMN]
    # sent back unfixed: one 错误原因 column, holding the new reason
    again = tmp_path / "再次被拒绝.csv"
    run(engine, catalog, out, rejects_path=again)
    (row2,) = read_csv(again, "utf-8")
    assert list(row2) == [*PENALTY_HEADERS, REASON_COLUMN]
    assert "2023-02-30" in row2[REASON_COLUMN]


def test_a_formula_in_a_rejected_row_comes_back_as_text_not_a_formula(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    from openpyxl import Workbook, load_workbook

    hostile = '=HYPERLINK("http://example.invalid","点此")'
    row = penalty(LONGDU, "濮市监罚决字〔2023〕00204号", 处罚决定日期="2023-02-30")
    row["违法事实"] = hostile
    # the department's file holds it as text (a formula would arrive as its cached value)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "数据"
    ws.append(PENALTY_HEADERS)
    for col, header in enumerate(PENALTY_HEADERS, start=1):
        cell = ws.cell(row=2, column=col, value=row.get(header) or None)
        cell.data_type = "s" if cell.value is not None else cell.data_type
    path = tmp_path / "处罚.xlsx"
    wb.save(path)
    out = tmp_path / "被拒绝.xlsx"
    receipt = run(engine, catalog, path, rejects_path=out)
    assert receipt.rejected == 1
    back = load_workbook(out)["数据"]
    cell = back.cell(row=2, column=PENALTY_HEADERS.index("违法事实") + 1)
    # text, and neutralised for whoever opens it in a spreadsheet (issue 11 item 7) ...
    assert (cell.value, cell.data_type) == ("'" + hostile, "s")
    # ... yet read back as the department first sent it, so the fixed row resends unchanged
    source = open_source(out)
    try:
        (_, cells, _), *_ = list(source.rows)
    finally:
        source.close()
    assert cells[source.headers.index("违法事实")] == hostile
