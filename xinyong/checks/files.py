"""Bulk check files (批量核查文件): a department's list of subjects in, one answer row per
subject out (CSV with BOM or XLSX), for the command line and the API alike."""

from __future__ import annotations

import csv
from pathlib import Path

from xinyong.batches.readers import open_source
from xinyong.cells import safe_row, xlsx_text_row
from xinyong.checks.bulk import BulkRow
from xinyong.errors import FileRefused

MAX_BULK_ROWS = 100_000

CODE_HEADERS = (
    "统一社会信用代码",
    "代码",
    "主体代码",
    "证件号码",
    "身份证号码",
    "组织机构代码",
    "注册号",
    "工商注册号",
    "信用代码",
)
NAME_HEADERS = ("名称", "主体名称", "企业名称", "单位名称", "姓名", "姓名/名称")
OUT_HEADERS = [
    "序号",
    "输入",
    "核查结果",
    "主体名称",
    "主体代码",
    "命中",
    "作为责任人涉及的名单",
    "应当实施的惩戒措施",
    "可以实施的惩戒措施",
    "激励措施",
    "不再触发的措施",
    "异议/修复状态",
    "候选主体",
    "与上次核查相比",
    "监管分类（分类监管）",
    "抽查频次建议（双随机）",
]


def read_bulk_file(path: Path) -> list[tuple[str | None, str | None]]:
    """The (code, name) of each row of a department's CSV/XLSX list of subjects; a file
    without a code or name column, or with an unreadable row, is refused whole."""
    source = open_source(path)
    try:
        heads = [h.strip() for h in source.headers]
        code_at = next((i for i, h in enumerate(heads) if h in CODE_HEADERS), None)
        name_at = next((i for i, h in enumerate(heads) if h in NAME_HEADERS), None)
        if code_at is None and name_at is None:
            if len(heads) != 1:
                raise FileRefused(
                    "BULK_NO_COLUMN",
                    "找不到主体代码列或名称列；表头应含“统一社会信用代码”（或“证件号码”）或“名称”",
                )
            code_at = 0
        rows: list[tuple[str | None, str | None]] = []
        for _, cells, problem in source.rows:
            if problem:
                raise FileRefused("BULK_ROW_UNREADABLE", problem)
            code = cells[code_at].strip() if code_at is not None and code_at < len(cells) else None
            name = cells[name_at].strip() if name_at is not None and name_at < len(cells) else None
            if code or name:
                rows.append((code or None, name or None))
            if len(rows) > MAX_BULK_ROWS:
                raise FileRefused(
                    "BULK_TOO_MANY", f"一次批量核查最多 {MAX_BULK_ROWS} 个主体，请分批提交"
                )
        return rows
    finally:
        source.close()


def _line(r: BulkRow) -> list[str]:
    return [
        str(r.row_no),
        r.given,
        r.status,
        r.name or "",
        r.code or "",
        "；".join(r.hits),
        "；".join(r.responsible_for),
        "、".join(r.must),
        "、".join(r.may),
        "、".join(r.rewards),
        "、".join(r.no_longer),
        "、".join(r.subject_state),
        "、".join(r.candidates),
        "；".join(r.changes),
        r.supervision,
        r.supervision_advice,
    ]


def write_bulk_result(path: Path, rows: list[BulkRow]) -> None:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("核查结果")
        ws.append(OUT_HEADERS)
        for r in rows:
            # names and codes as the requester typed them: inert text, never a formula
            ws.append(xlsx_text_row(ws, _line(r)))
        wb.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads it as UTF-8
        w = csv.writer(fh)
        w.writerow(OUT_HEADERS)
        for r in rows:
            w.writerow(safe_row(_line(r)))
