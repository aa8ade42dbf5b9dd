"""Upload templates (报送模板) generated from a dataset definition.

A template is what a department clerk fills in: an Excel workbook or a CSV file whose first
row holds the Chinese item names (``*`` marks 必填, ``△`` 条件必填) and whose second row holds
the item codes, plus instructions (填写说明) with one row per item. The ingest reader matches
columns by name or code and skips the second header row, so a filled-in template is read back
without any editing.

The Chinese descriptions of types, requirements and rules live here too, so that the command
line (``xinyong catalog show``) says exactly what the template says.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xinyong.catalog.schema import Condition, Dataset, Item, ItemType, Rule, RuleKind
from xinyong.errors import CatalogError

__all__ = [
    "DATA_SHEET",
    "ENUM_SHEET",
    "FIRST_DATA_ROW",
    "GUIDE_COLUMNS",
    "GUIDE_SHEET",
    "LAST_DATA_ROW",
    "MARK_CONDITIONAL",
    "MARK_REQUIRED",
    "enum_text",
    "general_notes",
    "guide_rows",
    "header_name",
    "instructions_path",
    "requirement_text",
    "rule_text",
    "type_text",
    "write_template",
]

DATA_SHEET = "数据"
GUIDE_SHEET = "填写说明"
ENUM_SHEET = "枚举值"
MARK_REQUIRED = "*"
MARK_CONDITIONAL = "△"
FIRST_DATA_ROW = 3
LAST_DATA_ROW = 10002  # drop-downs and formats cover 10,000 data rows
GUIDE_COLUMNS = ("代码", "名称", "类型", "是否必填", "取值范围", "单位", "说明")
# Excel refuses an inline list (formula1 = "a,b,c") longer than 255 characters.
_INLINE_LIST_LIMIT = 255
_DATE_HINT = "日期格式：YYYY/MM/DD，如 2024/03/15"
# Numbers stay numbers in Excel; everything else is typed as text, so that 18-digit ID numbers
# do not turn into 4.1E+17 and enum codes keep their leading zero.
_NUMERIC_TYPES = frozenset({ItemType.DECIMAL, ItemType.INTEGER})

_TYPE_NAMES: dict[ItemType, str] = {
    ItemType.TEXT: "文本",
    ItemType.DATE: "日期（YYYY/MM/DD）",
    ItemType.DECIMAL: "数值",
    ItemType.INTEGER: "整数",
    ItemType.ENUM: "枚举",
    ItemType.USCC: "统一社会信用代码（18位）",
    ItemType.TAXPAYER_NO: "纳税人识别号（18位统一社会信用代码或15位税务登记号）",
    ItemType.ORG_CODE: "组织机构代码（9位）",
    ItemType.REG_NO: "工商注册号（15位）",
    ItemType.ID_NUMBER: "证件号码",
    ItemType.YEAR: "年度（4位年份）",
}


# -- Chinese descriptions, shared with the command line ----------------------------------------


def type_text(item: Item) -> str:
    """类型 column: e.g. ``文本（不超过200字）``, ``枚举（可多选，以分号分隔）``."""
    text = _TYPE_NAMES[item.type]
    if item.type is ItemType.TEXT and item.max_length is not None:
        text += f"（不超过{item.max_length}字）"
    elif item.type is ItemType.ENUM and item.multiple:
        text += "（可多选，以分号分隔）"
    elif item.type is ItemType.ID_NUMBER and item.id_type_field:
        text += "（居民身份证为18位）"
    return text


def _quoted(values: tuple[str, ...]) -> str:
    return "或".join(f"“{v}”" for v in values)


def _condition_text(dataset: Dataset, cond: Condition) -> str:
    other = dataset.item(cond.field).name
    if cond.in_:
        return f"“{other}”为{_quoted(cond.in_)}时必填"
    if cond.contains:
        return f"“{other}”含{_quoted(cond.contains)}时必填"
    if cond.present:
        return f"填写了“{other}”时必填"
    return f"未填写“{other}”时必填"


def requirement_text(dataset: Dataset, item: Item) -> str:
    """是否必填 column: ``必填``, ``条件必填：…``, or ``选填``."""
    if item.required:
        return "必填"
    if item.required_when:
        return "条件必填：" + "；或".join(_condition_text(dataset, c) for c in item.required_when)
    return "选填"


def header_name(item: Item) -> str:
    """The item's name as the first header row shows it, with its requirement mark."""
    if item.required:
        return MARK_REQUIRED + item.name
    if item.required_when:
        return MARK_CONDITIONAL + item.name
    return item.name


def enum_text(item: Item) -> str:
    """取值范围 column: ``01 法人及非法人组织；02 自然人；03 个体工商户``."""
    return "；".join(f"{o.code} {o.label}" for o in item.enum)


def rule_text(dataset: Dataset, rule: Rule) -> str:
    """A cross-field check in words a clerk understands."""

    def name(code: str | None) -> str:
        return f"“{dataset.item(code).name}”" if code else "?"

    match rule.kind:
        case RuleKind.DATE_ORDER:
            return f"{name(rule.after)}不得早于{name(rule.before)}"
        case RuleKind.NOT_FUTURE:
            return f"{name(rule.field)}不得晚于报送当天"
        case RuleKind.SIMPLE_PROCEDURE_PERSON:
            return (
                f"主体为{rule.person_category or '自然人'}、{name(rule.types_field)}仅为"
                f"{'、'.join(rule.minor_types)}且罚款不超过{rule.max_fine_yuan}元的简易程序处罚"
                "不归集（《河南省社会信用条例》第十三条）"
            )
    raise AssertionError(rule.kind)  # pragma: no cover


def _item_notes(item: Item) -> str:
    parts = [item.description] if item.description else []
    if item.mask:
        parts.append("对外展示时脱敏")
    if item.aliases:
        parts.append("表头也可写作：" + "、".join(item.aliases))
    return "；".join(parts)


def guide_rows(dataset: Dataset) -> list[list[str]]:
    """One 填写说明 row per item, in :data:`GUIDE_COLUMNS` order."""
    return [
        [
            item.code,
            item.name,
            type_text(item),
            requirement_text(dataset, item),
            enum_text(item),
            item.unit or "",
            _item_notes(item),
        ]
        for item in dataset.items
    ]


def general_notes(dataset: Dataset, fmt: Literal["xlsx", "csv"]) -> list[str]:
    """The rules of the whole file, printed under the item table of the instructions."""
    where = "“数据”工作表" if fmt == "xlsx" else "本文件"
    notes = [
        f"数据集：{dataset.code} {dataset.name}；信息性质：{dataset.nature}；"
        f"共享属性：{dataset.disclosure}；更新周期：{dataset.update_cycle}",
        f"{where}第1行为信息项名称，第2行为信息项代码，数据从第3行起逐行填写；请勿修改第1行的名称。",
        "平台按第1行的名称（或代码）识别各列，列的顺序可以调整；由信息项代码组成的第2行在导入时"
        "自动跳过，保留或删除均可。",
        f"名称前带“{MARK_REQUIRED}”的为必填项，带“{MARK_CONDITIONAL}”的为条件必填项"
        "（条件见“是否必填”列），其余为选填项；标记可保留在表头中。",
        "日期写作 YYYY/MM/DD（如 2024/03/15），也接受 YYYY-MM-DD 和 YYYY年M月D日；"
        "长期有效写 2099/12/31。",
        "枚举项填写代码或名称均可（如“01”或“法人及非法人组织”）；可多选的以分号分隔。",
        "统一社会信用代码、证件号码等请按文本填写，避免 Excel 转为科学计数法。",
    ]
    if any(i.unit for i in dataset.items):
        notes.append("数值只填数字，单位见“单位”列（如万元）；不要使用千位分隔符。")
    if fmt == "csv":
        notes.append("CSV 文件请以 UTF-8 编码保存（本模板已带 BOM，Excel 可直接打开）。")
    for rule in dataset.rules:
        notes.append("校验规则：" + rule_text(dataset, rule))
    return notes


def instructions_path(path: Path) -> Path:
    """Where the CSV template's instructions go: ``<name>_填写说明.csv`` beside it."""
    return path.with_name(f"{path.stem}_{GUIDE_SHEET}.csv")


# -- writing -------------------------------------------------------------------------------------


def write_template(dataset: Dataset, fmt: Literal["xlsx", "csv"], path: Path) -> None:
    """Write the upload template of ``dataset`` to ``path`` (and, for CSV, its instructions)."""
    if fmt not in ("xlsx", "csv"):
        raise CatalogError("TEMPLATE_FORMAT", f"不支持的模板格式“{fmt}”，应为 xlsx 或 csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        _write_xlsx(dataset, path)
    else:
        _write_csv(dataset, path)


def _write_csv(dataset: Dataset, path: Path) -> None:
    # utf-8-sig writes the BOM that makes Excel open UTF-8 CSV files correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([header_name(i) for i in dataset.items])
        writer.writerow([i.code for i in dataset.items])
    with instructions_path(path).open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(GUIDE_COLUMNS)
        writer.writerows(guide_rows(dataset))
        writer.writerow([])
        writer.writerow(["填写要求"])
        for n, note in enumerate(general_notes(dataset, "csv"), start=1):
            writer.writerow([f"{n}. {note}"])


_HEADER_FONT = Font(bold=True)
_CODE_FONT = Font(color="808080", size=9)
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_CONDITIONAL_FILL = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _write_xlsx(dataset: Dataset, path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = DATA_SHEET
    enums = _EnumSheet(wb)
    for col, item in enumerate(dataset.items, start=1):
        letter = get_column_letter(col)
        name_cell = ws.cell(row=1, column=col, value=header_name(item))
        name_cell.font = _HEADER_FONT
        name_cell.alignment = _WRAP
        name_cell.fill = (
            _REQUIRED_FILL
            if item.required
            else _CONDITIONAL_FILL
            if item.required_when
            else _OPTIONAL_FILL
        )
        code_cell = ws.cell(row=2, column=col, value=item.code)
        code_cell.font = _CODE_FONT
        dim = ws.column_dimensions[letter]
        dim.width = min(max(12, 2 * len(item.name) + 4), 40)
        if item.type not in _NUMERIC_TYPES:
            dim.number_format = "@"
        comment = _header_comment(dataset, item)
        if comment:
            name_cell.comment = Comment(comment, "信用平台", width=320, height=140)
        if item.type is ItemType.ENUM:
            _add_drop_down(ws, enums, item, letter)
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    _write_guide(wb.create_sheet(GUIDE_SHEET), dataset)
    wb.save(path)


def _header_comment(dataset: Dataset, item: Item) -> str:
    lines = []
    if item.type is ItemType.DATE:
        lines.append(_DATE_HINT)
    requirement = requirement_text(dataset, item)
    if requirement != "选填":
        lines.append(requirement)
    if item.unit:
        lines.append(f"单位：{item.unit}")
    if item.description:
        lines.append(item.description)
    return "\n".join(lines)


class _EnumSheet:
    """The hidden sheet 枚举值 holding option lists too long for an inline drop-down."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.ws: Worksheet | None = None
        self.columns = 0

    def add(self, item: Item) -> str:
        """Write the item's labels into a new column; return the range formula for them."""
        if self.ws is None:
            self.ws = self.wb.create_sheet(ENUM_SHEET)
            self.ws.sheet_state = "hidden"
        self.columns += 1
        col = self.columns
        self.ws.cell(row=1, column=col, value=item.code)
        for row, opt in enumerate(item.enum, start=2):
            self.ws.cell(row=row, column=col, value=opt.label)
        ref = get_column_letter(col)
        return f"{quote_sheetname(ENUM_SHEET)}!${ref}$2:${ref}${len(item.enum) + 1}"


def _add_drop_down(ws: Worksheet, enums: _EnumSheet, item: Item, letter: str) -> None:
    labels = [o.label for o in item.enum]
    inline = ",".join(labels)
    if len(inline) <= _INLINE_LIST_LIMIT and not any('"' in v or "," in v for v in labels):
        formula = f'"{inline}"'
    else:
        formula = enums.add(item)
    dv = DataValidation(type="list", formula1=formula, allow_blank=True)
    dv.promptTitle = item.name[:32]
    if item.multiple:
        # A drop-down picks one value; several are typed by hand, so no error on other input.
        dv.prompt = "可从下拉列表选择，也可填写多个，以分号分隔，如“警告;罚款”"
        dv.showErrorMessage = False
    else:
        dv.prompt = "请从下拉列表选择"
        dv.errorTitle = "取值不在范围内"
        dv.error = f"“{item.name}”只能填写：{'、'.join(labels)}"[:255]
        dv.showErrorMessage = True
    dv.showInputMessage = True
    dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_DATA_ROW}")
    ws.add_data_validation(dv)


def _write_guide(ws: Worksheet, dataset: Dataset) -> None:
    ws.append(list(GUIDE_COLUMNS))
    for cell in ws[1]:
        cell.font = _HEADER_FONT
    for row in guide_rows(dataset):
        ws.append(row)
    ws.append([])
    ws.append(["填写要求"])
    ws.cell(row=ws.max_row, column=1).font = _HEADER_FONT
    for n, note in enumerate(general_notes(dataset, "xlsx"), start=1):
        ws.append([f"{n}. {note}"])
    for letter, width in zip("ABCDEFG", (16, 30, 24, 36, 40, 8, 60), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, max_row=len(dataset.items) + 1):
        for cell in row:
            cell.alignment = _WRAP
    ws.freeze_panes = "A2"
