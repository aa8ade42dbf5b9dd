"""Reading the files departments deliver: encodings detected (never assumed), XLSX cells as a
clerk typed them, JSON lines, and files refused whole with their code."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from xinyong.batches.readers import Source, open_source
from xinyong.errors import FileRefused

HEADERS = ["行政相对人名称", "行政相对人类别", "处罚决定日期", "罚款金额（万元）", "处罚内容"]
ROWS = [
    ["濮阳市华龙区鑫源商贸有限公司", "法人及非法人组织", "2023年5月1日", "0.5", "罚款人民币5000元"],
    ["清丰县恒达建材有限公司（分公司）", "01", "2023/05/02", "1", "警告，并处罚款人民币1万元"],
    ["王建国", "自然人", "20230503", "0.05", "罚款人民币五百元"],
]


def read_all(source: Source) -> list[tuple[int, list[str], str | None]]:
    try:
        return list(source.rows)
    finally:
        source.close()


def write(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb2312", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_the_same_rows_in_every_encoding_read_the_same(
    tmp_path: Path, encoding: str, detected: str
) -> None:
    source = open_source(write(tmp_path / "处罚.csv", [HEADERS, *ROWS], encoding))
    assert source.format == "csv"
    assert source.encoding == detected
    assert source.headers == HEADERS  # no BOM left on the first header
    assert read_all(source) == [(2, ROWS[0], None), (3, ROWS[1], None), (4, ROWS[2], None)]


def test_a_character_only_gb18030_has_survives(tmp_path: Path) -> None:
    # 䶮 (U+4DAE, CJK extension A) is not in GBK: GB18030 writes it as four bytes.
    rows = [HEADERS[:1], ["濮阳县刘䶮副食店"]]
    source = open_source(write(tmp_path / "a.csv", rows, "gb18030"))
    assert source.encoding == "gb18030"
    assert read_all(source) == [(2, ["濮阳县刘䶮副食店"], None)]


@pytest.mark.parametrize(
    "text",
    ["名称\n王伟\n", "名称\n濮阳\n", "a,b\n测,试\n", "行政相对人名称\n刘芳\n"],
)
def test_a_tiny_gbk_file_is_not_mistaken_for_korean_or_utf16(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tiny.csv"
    path.write_bytes(text.encode("gbk"))
    source = open_source(path)
    assert source.encoding == "gb18030"
    lines = [line.split(",") for line in text.splitlines()]
    assert source.headers == lines[0]
    assert [cells for _, cells, _ in read_all(source)] == lines[1:]


def test_a_file_that_switches_encoding_midway_is_refused(tmp_path: Path) -> None:
    # The first 256 KiB are UTF-8 (so detection says UTF-8); a GBK row follows.
    path = tmp_path / "mixed.csv"
    filler = "濮阳市华龙区鑫源商贸有限公司" * 20
    with path.open("wb") as fh:
        fh.write(",".join(HEADERS[:2]).encode("utf-8") + b"\r\n")
        for _ in range(400):
            fh.write(f"{filler},法人及非法人组织\r\n".encode())
        fh.write("王建国,自然人\r\n".encode("gbk"))
    source = open_source(path)
    assert source.encoding == "utf-8"
    with pytest.raises(FileRefused) as exc:
        read_all(source)
    assert exc.value.code == "FILE_ENCODING"
    assert "编码" in exc.value.message


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), (";", "semicolon"), ("|", "pipe")])
def test_delimiters_are_detected(tmp_path: Path, delimiter: str, name: str) -> None:
    # cells containing commas must not split: the delimiter is what the header uses
    rows = [HEADERS, [*ROWS[0][:4], "警告，罚款人民币5,000元"]]
    source = open_source(write(tmp_path / f"{name}.txt", rows, "utf-8", delimiter))
    assert source.headers == HEADERS
    assert read_all(source) == [(2, rows[1], None)]


def test_rows_are_numbered_as_excel_does(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        ",".join(HEADERS[:3]) + "\r\n"
        "濮阳市华龙区鑫源商贸有限公司,01,2023/05/01\r\n"
        "\r\n"  # a blank line still occupies row 3
        '"清丰县恒达建材\n有限公司",01,2023/05/02\r\n'  # one row in Excel despite the line break
        ",,\r\n"  # an empty row: skipped, but counted
        "王建国,02,2023/05/03\r\n",
        encoding="utf-8",
    )
    rows = read_all(open_source(path))
    assert [(n, cells[0]) for n, cells, _ in rows] == [
        (2, "濮阳市华龙区鑫源商贸有限公司"),
        (4, "清丰县恒达建材\n有限公司"),
        (6, "王建国"),
    ]


def test_headers_are_trimmed(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(" 行政相对人名称 ,处罚决定日期\n王建国,2023/05/01\n", encoding="utf-8-sig")
    assert open_source(path).headers == ["行政相对人名称", "处罚决定日期"]


# -- XLSX -------------------------------------------------------------------------------------


def test_xlsx_date_and_number_cells_read_as_a_clerk_typed_them(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "数据"
    ws.append(["行政相对人名称", "处罚决定日期", "处罚有效期", "罚款金额（万元）", "序号", "备注"])
    ws.append(
        ["濮阳市华龙区鑫源商贸有限公司", datetime(2023, 5, 1), date(2024, 5, 1), 0.5, 1, True]
    )
    ws.append(["清丰县恒达建材有限公司", datetime(2023, 5, 2, 8, 30), "2024/05/02", 30.0, 2, None])
    ws.append([None, None, None, None, None, None])  # an empty row in the middle
    ws.append(["王建国", datetime(2023, 5, 3), datetime(2099, 12, 31), 0.05, 3])
    path = tmp_path / "处罚.xlsx"
    wb.save(path)
    source = open_source(path)
    assert source.format == "xlsx"
    assert source.encoding is None
    assert read_all(source) == [
        (2, ["濮阳市华龙区鑫源商贸有限公司", "2023-05-01", "2024-05-01", "0.5", "1", "是"], None),
        (3, ["清丰县恒达建材有限公司", "2023-05-02 08:30:00", "2024/05/02", "30", "2"], None),
        (5, ["王建国", "2023-05-03", "2099-12-31", "0.05", "3"], None),
    ]


def test_xlsx_rows_read_the_same_without_openpyxls_private_sheet_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader uses openpyxl's private sheet parser (cells present only); should a release
    drop it, the public, bounded ``iter_rows`` gives the same rows, gaps and extra cells."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["行政相对人名称", "处罚决定日期"])
    ws.append(["濮阳市华龙区鑫源商贸有限公司", "2023/05/01"])
    ws.append([None, None])
    ws.append(["王建国", "2023/05/03", None, "多出的一格"])
    path = tmp_path / "处罚.xlsx"
    wb.save(path)
    with_parser = read_all(open_source(path))
    monkeypatch.delattr("openpyxl.worksheet._reader.WorkSheetParser")
    without = read_all(open_source(path))
    assert without == with_parser
    assert [n for n, _, _ in without] == [2, 4]
    assert with_parser[0][1] == ["濮阳市华龙区鑫源商贸有限公司", "2023/05/01"]


def test_xlsx_reads_the_data_sheet_and_finds_a_header_below_blank_rows(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = "填写说明"
    guide.append(["请按模板填写"])
    data = wb.create_sheet("数据")
    data.append([None, None])
    data.append(["行政相对人名称", "处罚决定日期", None, None])  # trailing empty header cells
    data.append(["王建国", "2023/05/01"])
    path = tmp_path / "模板.xlsx"
    wb.save(path)
    source = open_source(path)
    assert source.headers == ["行政相对人名称", "处罚决定日期"]
    assert read_all(source) == [(3, ["王建国", "2023/05/01"], None)]


def test_an_xlsx_without_any_row_has_no_header(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "空.xlsx"
    Workbook().save(path)
    with pytest.raises(FileRefused) as exc:
        open_source(path)
    assert exc.value.code == "FILE_NO_HEADER"


def test_a_broken_xlsx_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "坏.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    with pytest.raises(FileRefused) as exc:
        open_source(path)
    assert exc.value.code == "FILE_XLSX_BROKEN"


# -- JSON lines -------------------------------------------------------------------------------


def test_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "许可.jsonl"
    lines = [
        json.dumps(
            {"行政相对人名称": "濮阳市华龙区鑫源商贸有限公司", "罚款金额": 0.5}, ensure_ascii=False
        ),
        '{"行政相对人名称": "清丰县恒达建材有限公司", ',  # cut off
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps(
            {"处罚决定日期": "2023/05/03", "行政相对人名称": "王建国", "序号": 3, "公示": True},
            ensure_ascii=False,
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = open_source(path)
    assert source.format == "jsonl"
    # keys are headers in the order they first appear, known before any row is read (an
    # object may lack keys whose value was empty); row numbers are line numbers
    headers = ["行政相对人名称", "罚款金额", "处罚决定日期", "序号", "公示"]
    assert source.headers == headers
    rows = read_all(source)
    assert source.headers == headers
    assert rows[0] == (1, ["濮阳市华龙区鑫源商贸有限公司", "0.5", "", "", ""], None)
    n, cells, problem = rows[1]
    assert (n, cells) == (2, [])
    assert problem is not None and "JSON" in problem
    n, cells, problem = rows[2]
    assert (n, cells) == (4, [])
    assert problem is not None and "对象" in problem
    assert rows[3] == (5, ["王建国", "", "2023/05/03", "3", "是"], None)
    assert len(rows) == 4


def test_json_lines_in_gbk_are_detected_too(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        (json.dumps({"行政相对人名称": "南乐县张秀英便利店"}, ensure_ascii=False) + "\n").encode(
            "gbk"
        )
    )
    source = open_source(path)
    assert source.encoding == "gb18030"
    assert read_all(source) == [(1, ["南乐县张秀英便利店"], None)]


# -- files refused whole ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("处罚.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "FILE_XLS_UNSUPPORTED"),
        ("处罚.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "FILE_XLS_UNSUPPORTED"),
        ("处罚.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "FILE_NOT_TABLE"),
        ("处罚.csv", b"%PDF-1.4\n", "FILE_NOT_TABLE"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "FILE_NOT_TABLE"),
        ("空.csv", b"", "FILE_EMPTY"),
        ("空.jsonl", b"", "FILE_EMPTY"),
        ("无表头.csv", b"\r\n\r\n\r\n", "FILE_NO_HEADER"),
        ("无表头.csv", b",,,\r\n", "FILE_NO_HEADER"),
        ("无表头.jsonl", b"\n\n", "FILE_NO_HEADER"),
    ],
)
def test_unreadable_files_are_refused_with_their_code(
    tmp_path: Path, name: str, content: bytes, code: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRefused) as exc:
        open_source(path)
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused) as exc:
        open_source(tmp_path / "不存在.csv")
    assert exc.value.code == "FILE_NOT_FOUND"
