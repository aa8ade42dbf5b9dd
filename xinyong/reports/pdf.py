"""The PDF of a credit report, rendered from its stored snapshot alone (reportlab).

Rendering is deterministic: the same snapshot, hash and settings give the same bytes
(reportlab's invariant mode fixes the document id, and the creation date is the snapshot's
time, from the platform's clock), so a report can be rendered again at any time from
``credit_reports`` and still be the document that was issued. The metadata name the report:
title, author (the issuer), subject (whose report) and its number as keywords, which is how
``/verify`` finds the number in an uploaded file.

The font must be TrueType with CJK glyphs that reportlab can subset and embed: Debian's
``fonts-wqy-zenhei`` (a .ttc collection: the first face is used). CFF-outline fonts such as
``fonts-noto-cjk`` cannot be embedded by reportlab and are refused with a clear error.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import TimeStamp
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from xinyong.clock import CHINA, beijing
from xinyong.disclosure.view import LONG_TERM_LABEL, MAX_END_LABEL, MIN_END_LABEL
from xinyong.errors import XinyongError
from xinyong.reports import numbers
from xinyong.reports.content import FORMAT
from xinyong.reports.service import IssuedReport
from xinyong.settings import Settings

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 32 * mm
GRID = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#eef2f6")
CELL_SIZE = 8.5
CELL_PAD = 4.0

# -- the font ---------------------------------------------------------------------------------


@cache
def _register(path: str, subfont: int) -> str:
    name = "XinyongCJK-" + hashlib.sha256(f"{path}#{subfont}".encode()).hexdigest()[:8]
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=subfont))
    except TTFError as exc:
        raise XinyongError(
            "REPORT_FONT_UNUSABLE",
            f"报告字体 {path} 无法嵌入 PDF"
            f"（需要 TrueType 轮廓的中文字体，如 fonts-wqy-zenhei）：{exc}",
        ) from exc
    return name


def report_font(path: Path) -> str:
    """The registered name of the report's font; a clear error when it is missing."""
    if not path.is_file():
        raise XinyongError(
            "REPORT_FONT_MISSING",
            f"找不到报告字体文件 {path}：请安装 fonts-wqy-zenhei，"
            "或用 XINYONG_REPORT_FONT_PATH 指定一个 TrueType 中文字体",
        )
    return _register(str(path.resolve()), 0)


# -- styles -----------------------------------------------------------------------------------


class _Styles:
    def __init__(self, font: str) -> None:
        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=size * 1.45,
                wordWrap="CJK",  # Chinese breaks between any two characters
                **kw,
            )

        self.font = font
        self.title = style("title", 20, alignment=TA_CENTER, spaceAfter=4)
        self.subtitle = style("subtitle", 11, alignment=TA_CENTER, spaceAfter=10)
        # a heading is never the last line of a page
        self.h1 = style(
            "h1",
            13.5,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=1,
            textColor=colors.HexColor("#123"),
        )
        self.h2 = style("h2", 11, spaceBefore=6, spaceAfter=3, keepWithNext=1)
        self.body = style("body", 9.5)
        self.small = style("small", 8)
        self.cell = style("cell", CELL_SIZE)
        self.cell_head = style("cell_head", CELL_SIZE)


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _tstyle(font: str, commands: list[tuple[Any, ...]]) -> TableStyle:
    # a table sets its cells' font even for Paragraph cells: ours, or the file gains a
    # non-embedded Helvetica; plain-text cells are set like the Paragraph ones
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), CELL_SIZE),
            ("LEADING", (0, 0), (-1, -1), CELL_SIZE * 1.45),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            *commands,
        ]
    )


def _grid(data: list[list[Any]], widths: list[float], font: str, *, header: bool = False) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.4, GRID)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), SHADE))
    table.setStyle(_tstyle(font, commands))
    return table


def _qr(url: str, font: str) -> Drawing:
    # sized by its own bar width and height: asking the widget for its bounds would encode
    # the code a second time (reportlab's encoder is pure Python)
    widget = QrCodeWidget(url, barLevel="M", barWidth=QR_SIZE, barHeight=QR_SIZE)
    drawing = Drawing(QR_SIZE, QR_SIZE)
    # the drawing has no text, but its renderer sets a font anyway: ours, so that no
    # non-embedded standard font ends up in the file
    drawing.initialFontName = font
    drawing.add(widget)
    return drawing


# -- page furniture: "第 N 页 共 M 页" needs the page count, known only at the end -------------


def _stamp(at: datetime) -> Any:
    """reportlab's document time stamp at ``at`` in Beijing time (UTC+8): the PDF's
    CreationDate and ModDate. Invariant mode would write 2000-01-01."""
    stamp = TimeStamp(invariant=1)
    local = at.astimezone(CHINA)
    stamp.t = local.timestamp()
    stamp.lt = local.timetuple()
    stamp.YMDhms = tuple(stamp.lt)[:6]
    stamp.dhh, stamp.dmm, stamp.tzname = 8, 0, "CST"
    return stamp


def _numbered_canvas(font: str, report_no: str, created: datetime) -> type[Canvas]:
    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self._doc._timeStamp = _stamp(created)

        def showPage(self) -> None:  # reportlab's name
            # keep the page's drawing; it is emitted in save() once the total is known
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillColor(colors.HexColor("#555"))
                self.drawCentredString(PAGE_WIDTH / 2, 10 * mm, f"第 {number} 页 共 {total} 页")
                self.drawRightString(
                    PAGE_WIDTH - MARGIN,
                    PAGE_HEIGHT - 10 * mm,
                    f"报告编号：{numbers.grouped(report_no)}",
                )
                self.setStrokeColor(GRID)
                self.line(
                    MARGIN, PAGE_HEIGHT - 11.5 * mm, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 11.5 * mm
                )
                super().showPage()
            super().save()

    return NumberedCanvas


# -- the document -----------------------------------------------------------------------------


def verify_url(settings: Settings, report_no: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/verify/{report_no}"


def render_report(report: IssuedReport, settings: Settings) -> bytes:
    """The PDF of a stored report."""
    return render_snapshot(report.content, sha256=report.sha256, settings=settings)


def render_snapshot(content: dict[str, Any], *, sha256: str, settings: Settings) -> bytes:
    """The PDF of a report snapshot (``content.build_content``) whose hash is ``sha256``."""
    if content.get("format") != FORMAT:
        raise XinyongError(
            "REPORT_FORMAT_UNKNOWN", f"无法呈现格式为 {content.get('format')} 的报告快照"
        )
    font = report_font(settings.report_font_path)
    st = _Styles(font)
    report_no = str(content["report_no"])
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{content['subject']['name']} {content['title']}",
        author=content["issuer"],
        subject=f"{content['title']}（{content['kind_label']}）报告编号 {report_no}",
        keywords=report_no,
        creator="xinyong",
        producer="xinyong",
        initialFontName=font,  # else reportlab starts every page in a non-embedded Helvetica
        invariant=1,  # no random id; the creation date is set from the snapshot (_stamp)
        lang="zh-CN",
    )
    story = _story(content, sha256, verify_url(settings, report_no), st)
    created = _parse(content["snapshot_at"])
    doc.build(story, canvasmaker=_numbered_canvas(font, report_no, created))
    return buffer.getvalue()


def _story(content: dict[str, Any], sha256: str, url: str, st: _Styles) -> list[Flowable]:
    snapshot_time = beijing(_parse(content["snapshot_at"]))
    story: list[Flowable] = [
        _p(content["title"], st.title),
        _p(f"（{content['kind_label']}）", st.subtitle),
        _cover(content, sha256, url, snapshot_time, st),
        Spacer(1, 4 * mm),
        _p(
            f"本报告根据{content['issuer']}截至 {snapshot_time}（北京时间）的数据生成。",
            st.body,
        ),
    ]
    story += _basics(content, st)
    story += _summary(content, st)
    for section in content["sections"]:
        story += _section(section, st)
    story.append(_p("十、信用状况提升建议", st.h1))
    story.append(_p(content["advice"], st.body))
    if "query_history" in content:
        story += _queries(content["query_history"], st)
    if "evaluations" in content:
        story += _evaluations(content["evaluations"], st)
    story.append(_p("报告说明", st.h1))
    for i, note in enumerate(content["notes"], start=1):
        story.append(_p(f"{i}. {note}", st.body))
    return story


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _cover(
    content: dict[str, Any], sha256: str, url: str, snapshot_time: str, st: _Styles
) -> Table:
    label_w = 26 * mm
    rows = [
        ("报告编号", numbers.grouped(str(content["report_no"]))),
        ("信用主体", content["subject"]["name"]),
        ("报告生成时间", f"{snapshot_time}（北京时间）"),
        ("报告出具单位", content["issuer"]),
        ("报告类型", content["kind_label"]),
        ("SHA-256", sha256),
    ]
    info = _grid(
        [[_p(k, st.cell_head), _p(v, st.cell)] for k, v in rows],
        [label_w, BODY_WIDTH - QR_SIZE - 8 * mm - label_w],
        st.font,
    )
    qr = Table(
        [[_qr(url, st.font)], [_p("扫码核验报告", st.small)]],
        colWidths=[QR_SIZE + 4 * mm],
        style=_tstyle(st.font, [("ALIGN", (0, 0), (-1, -1), "CENTER")]),
    )
    outer = Table([[info, qr]], colWidths=[BODY_WIDTH - QR_SIZE - 8 * mm, QR_SIZE + 8 * mm])
    outer.setStyle(
        _tstyle(
            st.font, [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        )
    )
    return outer


def _basics(content: dict[str, Any], st: _Styles) -> list[Flowable]:
    subject = content["subject"]
    rows = [[_p(x["label"], st.cell_head), _p(x["value"], st.cell)] for x in subject["labels"]]
    if subject.get("former_names"):
        rows.append([_p("曾用名", st.cell_head), _p("；".join(subject["former_names"]), st.cell)])
    if subject.get("tags"):
        rows.append([_p("主体标签", st.cell_head), _p("、".join(subject["tags"]), st.cell)])
    return [_p("信用主体基本情况", st.h1), _grid(rows, [34 * mm, BODY_WIDTH - 34 * mm], st.font)]


def _summary(content: dict[str, Any], st: _Styles) -> list[Flowable]:
    entries = content["summary"]
    half = (len(entries) + 1) // 2
    rows: list[list[Any]] = []
    for i in range(half):
        row: list[Any] = []
        for entry in (entries[i], entries[i + half] if i + half < len(entries) else None):
            if entry is None:
                row += [_p("", st.cell), _p("", st.cell)]  # no bare text: Helvetica
            else:
                row += [_p(entry["label"], st.cell_head), _p(f"{entry['count']} 条", st.cell)]
        rows.append(row)
    w = BODY_WIDTH / 4
    table = Table(rows, colWidths=[w * 1.3, w * 0.7, w * 1.3, w * 0.7])
    table.setStyle(
        _tstyle(
            st.font,
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("BACKGROUND", (2, 0), (2, -1), SHADE),
            ],
        )
    )
    return [_p("信用信息概要", st.h1), table]


def _fit(text: Any, style: ParagraphStyle, width: float) -> Any:
    """A table cell: plain text when it fits on one line, else a wrapping Paragraph. Wrapping
    Chinese measures every character, so a report of fifty records spends most of its time in
    Paragraphs; most cells are short and need none."""
    value = "" if text is None else str(text)
    if "\n" not in value and (
        pdfmetrics.stringWidth(value, style.fontName, style.fontSize) <= width - 2 * CELL_PAD
    ):
        return value
    return _p(value, style)


def _fits(text: str, style: ParagraphStyle, width: float) -> bool:
    return "\n" not in text and (
        pdfmetrics.stringWidth(text, style.fontName, style.fontSize) <= width - 2 * CELL_PAD
    )


def _record_pairs(record: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [(str(i["name"]), str(i["value"])) for i in record["items"]]
    if record.get("publicity_min_end"):
        pairs.append((MIN_END_LABEL, str(record["publicity_min_end"])))
    if record.get("publicity_long_term"):
        pairs.append((MAX_END_LABEL, LONG_TERM_LABEL))
    elif record.get("publicity_max_end"):
        pairs.append((MAX_END_LABEL, str(record["publicity_max_end"])))
    if record.get("public_reason"):
        pairs.append(("说明", str(record["public_reason"])))
    if record.get("repair"):
        pairs.append(("信用修复", str(record["repair"]["label"])))
    pairs.append(("报送部门", str(record["dept_name"])))
    pairs.append(("信息更新时间", beijing(_parse(record["as_of"]))))
    return pairs


def _record_table(no: int, record: dict[str, Any], st: _Styles) -> Table:
    """One record as a grid of label | value | label | value: two short items share a row,
    a long one (违法事实, 处罚依据 …) takes the whole width. Half the rows of a two-column
    list, and so half the pages and half the drawing time."""
    label_w = 30 * mm
    half_value_w = BODY_WIDTH / 2 - label_w
    wide_value_w = BODY_WIDTH - label_w
    head = f"第 {no} 条　{record['state_label']}"
    if record.get("decision_date"):
        head += f"　决定日期 {record['decision_date']}"
    rows: list[list[Any]] = [[head, "", "", ""]]
    spans: list[tuple[Any, ...]] = [("SPAN", (0, 0), (-1, 0))]
    waiting: tuple[str, str] | None = None  # a short item waiting for its row partner

    def wide(label: str, value: str) -> None:
        rows.append(
            [_fit(label, st.cell_head, label_w), _fit(value, st.cell, wide_value_w), "", ""]
        )
        spans.append(("SPAN", (1, len(rows) - 1), (3, len(rows) - 1)))

    for label, value in _record_pairs(record):
        if _fits(label, st.cell_head, label_w) and _fits(value, st.cell, half_value_w):
            if waiting is None:
                waiting = (label, value)
            else:
                rows.append([waiting[0], waiting[1], label, value])
                waiting = None
        else:
            wide(label, value)
    if waiting is not None:
        wide(*waiting)
    # a record split over two pages repeats its "第 N 条" line on the second
    table = Table(rows, colWidths=[label_w, half_value_w, label_w, half_value_w], repeatRows=1)
    table.setStyle(
        _tstyle(
            st.font,
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                *spans,
            ],
        )
    )
    return table


def _section(section: dict[str, Any], st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [_p(f"{section['no']}、{section['title']}", st.h1)]
    if not section["datasets"]:
        out.append(_p("无", st.body))
        return out
    for part in section["datasets"]:
        listed = len(part["records"])
        title = f"{part['name']}（共 {part['total']} 条）"
        if listed < part["total"]:
            title += f"，本报告列出最近 {listed} 条"
        out.append(_p(title, st.h2))
        for no, record in enumerate(part["records"], start=1):
            out.append(_record_table(no, record, st))
            out.append(Spacer(1, 2 * mm))
    return out


def _queries(history: list[dict[str, Any]], st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [_p("十一、信用信息查询记录", st.h1)]
    if not history:
        out.append(_p("未发现其他单位查询本主体非公开信用信息的记录。", st.body))
        return out
    widths = [32 * mm, 52 * mm, 28 * mm, 26 * mm, BODY_WIDTH - 138 * mm]
    rows: list[list[Any]] = [
        [_p(h, st.cell_head) for h in ("查询时间", "查询单位", "身份", "事项", "用途")]
    ]
    for q in history:
        rows.append(
            [
                _p(beijing(_parse(q["at"])), st.cell),
                _p(q["querier"], st.cell),
                _p(q["role"], st.cell),
                _p(q["action"], st.cell),
                _p(q["purpose"] or "—", st.cell),
            ]
        )
    out.append(_grid(rows, widths, st.font, header=True))
    return out


def _evaluations(found: list[dict[str, Any]], st: _Styles) -> list[Flowable]:
    """十二: each model's result for the subject with its explanation (self report only)."""
    out: list[Flowable] = [_p("十二、信用评价结果及说明", st.h1)]
    if not found:
        out.append(_p("暂无信用评价结果。", st.body))
        return out
    for e in found:
        out.append(_p(e["model_name"], st.h2))
        label_w = 30 * mm
        out.append(
            _grid(
                [[_p(k, st.cell_head), _p(v, st.cell)] for k, v in e["facts"]],
                [label_w, BODY_WIDTH - label_w],
                st.font,
            )
        )
        if "indicators" in e:
            out.append(_p("各项指标得分及依据的信用记录", st.h2))
            if e["indicators"]:
                widths = [22 * mm, 40 * mm, 16 * mm, BODY_WIDTH - 78 * mm]
                rows: list[list[Any]] = [
                    [_p(h, st.cell_head) for h in ("维度", "指标", "得分", "依据的信用记录")]
                ]
                for i in e["indicators"]:
                    name = i["name"] + (f"（{i['note']}）" if i["note"] else "")
                    rows.append(
                        [
                            _p(i["dimension"], st.cell),
                            _p(name, st.cell),
                            _p(i["points"], st.cell),
                            _p(i["records"] or "—", st.cell),
                        ]
                    )
                out.append(_grid(rows, widths, st.font, header=True))
            else:
                out.append(_p("没有计分的信用记录：按基础分评价。", st.body))
        if "changes" in e:
            out.append(_p("什么会改变评价等级", st.h2))
            if e["changes"]:
                widths = [26 * mm, BODY_WIDTH - 82 * mm, 56 * mm]
                rows = [[_p(h, st.cell_head) for h in ("日期", "事项", "届时评价")]]
                for c in e["changes"]:
                    rows.append(
                        [
                            _p(f"{c['on']} 起", st.cell),
                            _p(c["what"], st.cell),
                            _p(c["then"], st.cell),
                        ]
                    )
                out.append(_grid(rows, widths, st.font, header=True))
            else:
                out.append(_p("五年内没有会改变评价结果的到期或修复事项。", st.body))
        if "criteria" in e:
            out.append(_p("各项评定条件", st.h2))
            widths = [70 * mm, 40 * mm, 30 * mm, BODY_WIDTH - 140 * mm]
            rows = [[_p(h, st.cell_head) for h in ("条件", "实际情况", "标准", "是否达到")]]
            for c in e["criteria"]:
                rows.append([_p(c[k], st.cell) for k in ("name", "figure", "threshold", "met")])
            out.append(_grid(rows, widths, st.font, header=True))
            out.append(_p("什么会改变评定结果", st.h2))
            if e["to_pass"]:
                out.append(_p(f"达到以下条件后，下次评定可评为{e['passed']}：", st.body))
                for lack in e["to_pass"]:
                    out.append(_p(f"· {lack}", st.body))
            else:
                out.append(
                    _p(f"各项条件均已达到；任一条件不再满足时，将不再评为{e['passed']}。", st.body)
                )
    return out


_UNSAFE_IN_NAMES = '\\/:*?"<>|'


def report_filename(report: IssuedReport) -> str:
    """The file name a report is saved under: whose report, which report, the day of issue
    (``濮阳市某某有限公司_公共信用信息报告_2026-12-07.pdf``)."""
    content = report.content
    name = "".join(
        ch for ch in str(content["subject"]["name"]) if ch not in _UNSAFE_IN_NAMES and ch >= " "
    )
    day = report.issued_at.astimezone(CHINA).date().isoformat()
    return f"{name.strip() or '信用主体'}_{content['title']}_{day}.pdf"


def report_disposition(report: IssuedReport) -> str:
    """The Content-Disposition of a report download: the Chinese name (RFC 6266/5987) and an
    ASCII one for clients that read only that."""
    day = report.issued_at.astimezone(CHINA).strftime("%Y%m%d")
    fallback = f"credit-report-{day}-{report.report_no}.pdf"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(report_filename(report))}"
