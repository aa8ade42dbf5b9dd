"""Readers for the files departments deliver: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, detected),
XLSX and JSON lines. Each streams rows so that memory stays bounded whatever the file size.

Row numbers are counted as Excel does (header = 1, first data row = 2); for JSON lines the row
number is the line number. A file that cannot be read at all raises :class:`FileRefused`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from charset_normalizer import from_bytes

from xinyong.cells import plain_text
from xinyong.errors import FileRefused


class Unreadable(str):
    """Why a whole row cannot be read (its Chinese message), carrying its stable code."""

    code: str

    @classmethod
    def of(cls, code: str, message: str) -> Unreadable:
        made = cls(message)
        made.code = code
        return made


# A row: its number, its cells in header order (text; Excel dates as YYYY-MM-DD), and a
# problem that makes the whole row unreadable (a broken JSON line), if any: a plain message
# is ``JSON_INVALID``, an :class:`Unreadable` says its own code.
Row = tuple[int, list[str], str | None]
RowStream = Iterator[Row]

_SAMPLE_BYTES = 256 * 1024

# Limits of what one file may make us hold (issue 11, "refuse before working"): no line is
# read whole beyond MAX_LINE_CHARS (a 60 MB one-line CSV is refused after its first MiB), and
# no file is read wider than its caller's column cap (a spreadsheet reaching column XFD is
# read to the cap, not to 16,384 columns a row).
MAX_LINE_CHARS = 1 << 20
DEFAULT_MAX_COLUMNS = 256

csv.field_size_limit(MAX_LINE_CHARS)


def _too_wide(width: int, cap: int) -> FileRefused:
    return FileRefused(
        "FILE_TOO_WIDE", f"表头有 {width} 列，超过此数据集可接受的 {cap} 列；请删除多余的列"
    )


def _line_too_long(row_no: int) -> FileRefused:
    return FileRefused(
        "FILE_LINE_TOO_LONG",
        f"第 {row_no} 行超过 {MAX_LINE_CHARS:,} 个字符，不是一行数据；请检查换行符或文件格式",
    )


def _bounded_lines(text: IO[str], first_row: int) -> Iterator[str]:
    """Lines of ``text``, none read beyond MAX_LINE_CHARS (a file-level refusal there)."""
    line_no = first_row
    while line := text.readline(MAX_LINE_CHARS + 1):
        if len(line) > MAX_LINE_CHARS:
            raise _line_too_long(line_no)
        line_no += 1
        yield line


def _json_line(line: str) -> Any:
    """A JSON line parsed; nesting too deep for the parser is a row problem, not a crash."""
    try:
        return json.loads(line)
    except RecursionError:
        return _TOO_DEEP


_TOO_DEEP = object()


@dataclass
class Source:
    """An opened file: its format, encoding, header and a stream of rows."""

    format: str  # csv / xlsx / jsonl
    encoding: str | None
    headers: list[str]  # JSON lines may add keys as they appear: the list then grows
    rows: RowStream
    _closer: Any = None
    # things about the whole file the receipt must mention: (code, Chinese message)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()


def detect_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") and (
        suffix in (".xlsx", ".xlsm") or zipfile.is_zipfile(path)
    ):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "FILE_XLS_UNSUPPORTED",
            "不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 CSV 后重新报送",
        )
    if head.startswith(b"%PDF"):
        raise FileRefused(
            "FILE_NOT_TABLE", "文件是 PDF，不是数据表；请报送 CSV、XLSX 或 JSON Lines"
        )
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def detect_encoding(path: Path) -> str:
    """Decide the text encoding from the file's first bytes; never assume one."""
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise FileRefused("FILE_NOT_TABLE", "文件含有二进制内容，不是文本数据表")
    try:
        # final=False: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        # Bytes that read as GB18030 are GB18030: statistical guessers call a short GBK file
        # Korean or UTF-16 ("名称\n王伟\n" comes out as cp949), garbling every cell.
        return "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample).best()
    guess = best.encoding.lower().replace("-", "_") if best is not None else None
    if guess is not None:
        return guess
    raise FileRefused(
        "FILE_ENCODING", "无法识别文件的字符编码；请以 UTF-8 或 GBK 编码保存后重新报送"
    )


def _clean_header(text: Any) -> str:
    return "" if text is None else str(text).strip().lstrip("\ufeff")


def _open_csv(path: Path, max_columns: int) -> Source:
    encoding = detect_encoding(path)
    raw: IO[bytes] = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
    try:
        first = text.readline(MAX_LINE_CHARS + 1)
    except UnicodeDecodeError as exc:
        raw.close()
        raise FileRefused("FILE_ENCODING", f"文件首行无法按 {encoding} 解码：{exc.reason}") from exc
    if len(first) > MAX_LINE_CHARS:
        raw.close()
        raise _line_too_long(1)
    dialect = "excel"
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    header = next(csv.reader([first], dialect=dialect, delimiter=delimiter), [])
    headers = [_clean_header(h) for h in header]
    if len(headers) > max_columns:
        raw.close()
        raise _too_wide(len(headers), max_columns)
    reader = csv.reader(_bounded_lines(text, 2), dialect=dialect, delimiter=delimiter)

    def rows() -> RowStream:
        row_no = 1
        try:
            for record in reader:
                row_no += 1
                if not record or not any(record):
                    continue
                # one C-level search of the row first: a generator over every cell of every
                # row cost a fifth of reading a file
                if "'" in "".join(record) and any(c[:1] == "'" for c in record):
                    record = [plain_text(c) for c in record]
                yield row_no, record, None
        except UnicodeDecodeError as exc:
            raise FileRefused(
                "FILE_ENCODING",
                f"第 {row_no + 1} 行附近的内容无法按 {encoding} 解码，文件可能混用了编码",
            ) from exc
        except csv.Error as exc:
            raise FileRefused("FILE_CSV_BROKEN", f"第 {row_no} 行 CSV 格式错误：{exc}") from exc

    return Source("csv", encoding, headers, rows(), raw)


def _cell_text(value: Any) -> str:
    """Excel and JSON values as the text a clerk would have typed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return plain_text(value) if value[:1] == "'" else value
    if isinstance(value, datetime):
        # a time object is always truthy: compare with midnight (what an Excel date cell holds)
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


_TEMPLATE_SHEETS = {"填写说明", "枚举值"}
# Cells read past a spreadsheet's header: enough to see that a row has more cells than the
# header (a row problem) without reading a sheet to column XFD.
_XLSX_MARGIN = 8


def _sparse_rows(ws: Any, min_row: int, width: int) -> Iterator[tuple[int, list[Any], list[Any]]]:
    """Each row from ``min_row`` as its first ``width`` values and the non-empty values
    beyond them. openpyxl's public ``iter_rows`` pads every row to the sheet's last column
    (a sheet reaching XFD gives 16,384 cells a row); its sheet parser gives only the cells
    present, so a row costs what the file holds. That parser is not openpyxl's public API
    (pyproject pins the minor version it was written against); should it change, the rows are
    read through ``iter_rows`` to the header and the margin instead, which is bounded but sees
    a stray cell far past the header only within the margin."""
    try:
        from openpyxl.worksheet._reader import WorkSheetParser

        parent = ws.parent
        source = ws._get_source()
        parser = WorkSheetParser(
            source,
            ws._shared_strings,
            data_only=parent.data_only,
            epoch=parent.epoch,
            date_formats=parent._date_formats,
            timedelta_formats=parent._timedelta_formats,
        )
    except (ImportError, AttributeError, TypeError):
        yield from _bounded_rows(ws, min_row, width)
        return
    with source:
        for idx, present in parser.parse():
            if idx < min_row:
                continue
            values: list[Any] = [None] * width
            beyond: list[Any] = []
            for cell in present:
                col = cell["column"]
                if col <= width:
                    values[col - 1] = cell["value"]
                elif cell["value"] is not None and len(beyond) < _XLSX_MARGIN:
                    beyond.append(cell["value"])
            yield idx, values, beyond


def _bounded_rows(ws: Any, min_row: int, width: int) -> Iterator[tuple[int, list[Any], list[Any]]]:
    """The public way: rows padded to the header's width and the margin, no further."""
    rows = ws.iter_rows(min_row=min_row, max_col=width + _XLSX_MARGIN, values_only=True)
    for idx, values in enumerate(rows, start=min_row):
        cells = list(values)
        head = (cells + [None] * width)[:width]
        yield idx, head, [v for v in cells[width:] if v is not None]


def _open_xlsx(path: Path, max_columns: int) -> Source:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken archive
        raise FileRefused("FILE_XLSX_BROKEN", f"无法打开 Excel 文件：{exc}") from exc
    ws = wb["数据"] if "数据" in wb.sheetnames else wb.worksheets[0]
    # Our own templates carry instruction sheets; any other sheet with content is not read,
    # and the receipt says so rather than dropping it silently.
    skipped = [
        other.title
        for other in wb.worksheets
        if other is not ws
        and other.title not in _TEMPLATE_SHEETS
        and other.max_row is not None
        and other.max_row > 1
    ]
    # One column past the cap tells a header too wide; rows are read to the header's width
    # and a margin (cells past the header are a row problem, ROW_EXTRA_CELLS), never to the
    # sheet's last column.
    head_it = ws.iter_rows(values_only=True, max_col=max_columns + 1)
    headers: list[str] = []
    row_no = 0
    for values in head_it:
        row_no += 1
        if values and any(v is not None and str(v).strip() for v in values):
            headers = [_clean_header(v) for v in values]
            break
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > max_columns:
        wb.close()
        raise _too_wide(len(headers), max_columns)
    start = row_no
    width = len(headers)

    def rows() -> RowStream:
        for n, values, beyond in _sparse_rows(ws, start + 1, width):
            cells = [_cell_text(v) for v in values]
            if beyond:
                # cells past the header: kept as a few joined cells so that the row is
                # refused (ROW_EXTRA_CELLS) and names them, without one cell per column
                cells += [_cell_text(v) for v in beyond[:_XLSX_MARGIN]]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                yield n, cells, None

    source = Source("xlsx", None, headers, rows(), wb)
    if skipped:
        source.notes.append(
            (
                "SHEETS_NOT_READ",
                f"只读取了工作表“{ws.title}”；以下工作表未读取，请分别报送或合并后重新报送："
                + "、".join(skipped),
            )
        )
    return source


def _open_jsonl(path: Path, max_columns: int) -> Source:
    encoding = detect_encoding(path)
    fh = path.open("r", encoding=encoding, newline="")
    # JSON lines have no header row: keys become headers in the order they first appear.
    headers: list[str] = []
    position: dict[str, int] = {}

    def lines() -> Iterator[tuple[int, str | None]]:
        """Each line with its number; an over-long line as None, the rest of it skipped."""
        line_no = 0
        while line := fh.readline(MAX_LINE_CHARS + 1):
            line_no += 1
            if len(line) <= MAX_LINE_CHARS:
                yield line_no, line
                continue
            while line and not line.endswith("\n"):
                line = fh.readline(MAX_LINE_CHARS)
            yield line_no, None

    def rows() -> RowStream:
        for line_no, line in lines():
            if line is None:
                yield (
                    line_no,
                    [],
                    Unreadable.of("LINE_TOO_LONG", f"该行超过 {MAX_LINE_CHARS:,} 个字符，未读取"),
                )
                continue
            if not line.strip():
                continue
            try:
                obj = _json_line(line)
            except json.JSONDecodeError as exc:
                yield line_no, [], f"该行不是有效的 JSON：{exc.msg}（第 {exc.colno} 列）"
                continue
            if obj is _TOO_DEEP:
                yield line_no, [], Unreadable.of("JSON_TOO_DEEP", "该行 JSON 嵌套层数过多，未读取")
                continue
            if not isinstance(obj, dict):
                yield line_no, [], "该行应为一个 JSON 对象（{…}）"
                continue
            new = [str(k) for k in obj if str(k) not in position]
            if len(headers) + len(new) > max_columns:
                yield (
                    line_no,
                    [],
                    Unreadable.of("ROW_TOO_WIDE", f"该行使文件的键超过 {max_columns} 个，未读取"),
                )
                continue
            cells = [""] * len(headers)
            for k, v in obj.items():
                key = str(k)
                at = position.get(key)
                if at is None:
                    at = position[key] = len(headers)
                    headers.append(key)
                    cells.append("")
                cells[at] = _cell_text(v)
            yield line_no, cells, None

    # Read the keys of the first objects now so that the header check can run before any row.
    # Not of the first object alone: exports drop keys whose value is empty, so one object may
    # lack a column that the file has (its row is then rejected, not the whole file).
    scanned = 0
    for _, line in lines():
        scanned += len(line or "") or MAX_LINE_CHARS
        if line and line.strip():
            try:
                obj = _json_line(line)
            except json.JSONDecodeError:
                obj = None
            for k in obj if isinstance(obj, dict) else {}:
                if len(headers) >= max_columns:
                    break
                if str(k) not in position:
                    position[str(k)] = len(headers)
                    headers.append(str(k))
        if scanned >= _SAMPLE_BYTES:
            break
    fh.seek(0)
    return Source("jsonl", encoding, headers, rows(), fh)


def open_source(path: Path, *, max_columns: int = DEFAULT_MAX_COLUMNS) -> Source:
    """The file opened; ``max_columns`` caps its width (the dataset's items and a margin)."""
    if not path.exists():
        raise FileRefused("FILE_NOT_FOUND", f"文件不存在：{path}")
    if path.stat().st_size == 0:
        raise FileRefused("FILE_EMPTY", "文件为空")
    fmt = detect_format(path)
    if fmt == "xlsx":
        source = _open_xlsx(path, max_columns)
    elif fmt == "jsonl":
        source = _open_jsonl(path, max_columns)
    else:
        source = _open_csv(path, max_columns)
    if not any(source.headers):
        source.close()
        raise FileRefused("FILE_NO_HEADER", "文件没有表头行，无法识别各列")
    return source
