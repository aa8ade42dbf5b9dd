"""Files built to cost the server (issue 11, "refuse before working"): an over-long line, a
spreadsheet reaching column XFD, a JSON line nested 100,000 deep, a file wider than its
dataset. Each is a clear refusal with a stable code, rows or file, on both databases; none
is a 500 or hundreds of MB of stored rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.deliveries import HENGDA, PENALTY_HEADERS, XINYUAN, penalty, run, write_csv
from sqlalchemy import Engine, func, select

from xinyong.batches.models import batch_rejects, batches
from xinyong.batches.readers import MAX_LINE_CHARS, open_source
from xinyong.catalog.loader import Catalog
from xinyong.errors import FileRefused


def _csv_line(values: list[str]) -> str:
    return ",".join(values) + "\n"


def _stored_batches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(batches)).scalar_one())


def test_a_one_line_csv_is_refused_after_its_first_mib(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "one-line.csv"
    path.write_text("名称," + "x" * (3 * MAX_LINE_CHARS), encoding="utf-8")
    with pytest.raises(FileRefused) as refused:
        run(engine, catalog, path)
    assert refused.value.code == "FILE_LINE_TOO_LONG"
    assert _stored_batches(engine) == 0


def test_an_over_long_csv_row_is_refused_with_its_row_number(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "处罚.csv", [penalty(XINYUAN)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write("x" * (MAX_LINE_CHARS + 10) + "\n")
    with pytest.raises(FileRefused) as refused:
        run(engine, catalog, path)
    assert refused.value.code == "FILE_LINE_TOO_LONG" and "第 3 行" in refused.value.message


def test_a_csv_wider_than_its_dataset_is_refused_before_any_row(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    width = len(catalog.datasets["XZCF"].items) + 33
    path.write_text(
        _csv_line(list(PENALTY_HEADERS) + [f"列{n}" for n in range(width)]), encoding="utf-8"
    )
    with pytest.raises(FileRefused) as refused:
        run(engine, catalog, path)
    assert refused.value.code == "FILE_TOO_WIDE"


def test_a_spreadsheet_reaching_column_xfd_stores_rejects_at_header_width(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(list(PENALTY_HEADERS))
    for n in range(200):
        row: list[object] = [None] * 16384
        values = penalty(HENGDA, f"濮市监罚决字〔2024〕{n:05d}号")
        for i, h in enumerate(PENALTY_HEADERS):
            row[i] = values.get(h, "")
        row[-1] = "XFD"  # a cell in the sheet's last column
        ws.append(row)
    path = tmp_path / "xfd.xlsx"
    wb.save(path)

    receipt = run(engine, catalog, path)
    assert receipt.rejected == 200
    assert {r["code"] for r in receipt.rejects} == {"ROW_EXTRA_CELLS"}
    with engine.connect() as conn:
        widths = {len(r.raw) for r in conn.execute(select(batch_rejects.c.raw))}
    assert widths == {len(PENALTY_HEADERS)}


def test_a_json_line_nested_100000_deep_is_a_row_problem(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    good = {k: v for k, v in penalty(XINYUAN).items() if v}
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "deep.jsonl"
    path.write_text(
        "\n".join([deep, json.dumps(good, ensure_ascii=False), '{"a": ' + deep + "}"]) + "\n",
        encoding="utf-8",
    )
    receipt = run(engine, catalog, path)
    assert receipt.new == 1 and receipt.rejected == 2
    codes = {r["code"] for r in receipt.rejects}
    assert codes == {"JSON_TOO_DEEP"}


def test_an_over_long_json_line_is_a_row_problem_and_the_next_line_is_read(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    good = json.dumps({k: v for k, v in penalty(XINYUAN).items() if v}, ensure_ascii=False)
    path = tmp_path / "long.jsonl"
    path.write_text(
        good
        + "\n"
        + '{"x": "'
        + "y" * (2 * MAX_LINE_CHARS)
        + '"}\n'
        + good.replace("00101", "00102")
        + "\n",
        encoding="utf-8",
    )
    receipt = run(engine, catalog, path)
    assert receipt.new == 2 and receipt.rejected == 1
    assert [(r["row"], r["code"]) for r in receipt.rejects] == [(2, "LINE_TOO_LONG")]


def test_json_lines_with_too_many_keys_are_row_problems(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    path.write_text(
        '{"名称": "甲"}\n' + json.dumps({f"k{n}": "v" for n in range(50)}) + "\n",
        encoding="utf-8",
    )
    source = open_source(path, max_columns=10)
    try:
        rows = list(source.rows)
    finally:
        source.close()
    assert len(source.headers) <= 10
    assert rows[1][2] is not None and getattr(rows[1][2], "code", "") == "ROW_TOO_WIDE"
