"""`xinyong catalog …`: read the credit information catalogue (信用信息目录) and produce upload
templates (报送模板). A thin shell over :mod:`xinyong.catalog`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.schema import Dataset, Item
from xinyong.cli.context import fail, make_console, print_json
from xinyong.errors import XinyongError
from xinyong.settings import get_settings

app = typer.Typer(help="信用信息目录：查看数据集定义，生成报送模板", no_args_is_help=True)

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="目录文件夹（默认取环境变量 XINYONG_CATALOG_DIR，或仓库内的 catalog/）",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]

#: 全国公共信用信息基础目录 categories, 2024 edition (reference/measures-and-reports.md §2.2).
CATEGORY_NAMES: dict[str, str] = {
    "C01": "登记注册基本信息",
    "C02": "司法裁判及执行信息",
    "C03": "行政管理信息",
    "C04": "职称和职业信息",
    "C05": "经营（活动）异常名录（状态）信息",
    "C06": "严重失信主体名单信息",
    "C07": "有关合同履行信息",
    "C08": "信用承诺及其履行情况信息",
    "C09": "信用评价结果信息",
    "C10": "诚实守信相关荣誉信息",
    "C11": "经营主体自愿提供的信用信息",
    "C12": "遵守法律法规情况信息",
    "C13": "知识产权信息",
}

_LIST_KINDS = {
    "red": "红名单",
    "black": "黑名单",
    "watch": "重点关注名单",
    "abnormal": "经营异常名录",
}

_SUBJECT_FIELDS = {
    "name": "主体名称",
    "category": "主体类别",
    "uscc": "统一社会信用代码",
    "org_code": "组织机构代码",
    "reg_no": "工商注册号",
    "tax_no": "税务登记号",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "former_names": "曾用名",
    "status": "登记状态",
}


class TemplateFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


def catalog_dir(override: Path | None = None) -> Path:
    """The catalogue directory every command reads.

    ``override`` (a ``--catalog`` option) wins; otherwise the settings decide, i.e. the
    environment variable XINYONG_CATALOG_DIR or the ``catalog/`` folder of the source checkout.
    """
    if override is not None:
        return override
    return get_settings().catalog_dir


def console() -> Console:
    """A console sized when the command runs (so COLUMNS set for the command is honoured)."""
    return make_console(highlight=False)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Domain and file errors become a Chinese message and exit status 2, never a traceback."""
    try:
        yield
    except XinyongError as exc:
        fail(exc)
    except OSError as exc:
        fail(XinyongError("FILE_UNWRITABLE", f"无法读写文件：{exc}"))


def _load(override: Path | None) -> Catalog:
    return load_catalog(catalog_dir(override))


def _item_ref(ds: Dataset, code: str) -> str:
    if code == "subject":
        return "主体（统一社会信用代码或证件号码）"
    return f"{ds.item(code).name}（{code}）"


def _required_short(ds: Dataset, item: Item) -> str:
    from xinyong.catalog.templates import requirement_text

    text = requirement_text(ds, item)
    return text.replace("条件必填：", "条件必填：\n") if text.startswith("条件必填") else text


@app.command("list")
def list_datasets(catalog: CatalogOption = None, as_json: JsonOption = False) -> None:
    """列出目录中的全部数据集。"""
    with reporting_errors():
        cat = _load(catalog)
    if as_json:
        print_json(
            [
                {
                    "code": ds.code,
                    "name": ds.name,
                    "nature": ds.nature.value,
                    "disclosure": ds.disclosure.value,
                    "subject_types": list(ds.subject_types),
                    "items": len(ds.items),
                }
                for ds in cat.datasets.values()
            ]
        )
        return
    table = Table(title=f"信用信息目录（{len(cat.datasets)} 个数据集）")
    for col in ("代码", "名称", "信息性质", "共享属性", "主体类型", "信息项数"):
        table.add_column(col, justify="right" if col == "信息项数" else "left")
    for ds in cat.datasets.values():
        table.add_row(
            ds.code,
            escape(ds.name),
            ds.nature.value,
            ds.disclosure.value,
            "、".join(ds.subject_types),
            str(len(ds.items)),
        )
    console().print(table)


@app.command("show")
def show_dataset(
    dataset: Annotated[str, typer.Argument(help="数据集代码或名称，如 XZCF 或 行政处罚信息")],
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """显示一个数据集的全部属性和信息项。"""
    # templates.py carries openpyxl: imported by the two commands that use it, not at start-up
    from xinyong.catalog.templates import enum_text, rule_text, type_text

    with reporting_errors():
        ds = _load(catalog).dataset(dataset)
    if as_json:
        # the dataset's definition as the catalogue holds it
        print_json(ds.model_dump(mode="json", exclude_none=True))
        return
    attrs = Table(title=f"{ds.code} {escape(ds.name)}", show_header=False)
    attrs.add_column("属性", style="bold")
    attrs.add_column("值")
    category = f"{ds.category} {CATEGORY_NAMES.get(ds.category, '')}" if ds.category else "—"
    subject = [
        f"{label}：{_item_ref(ds, ref) if field != 'default_category' else ref}"
        for field, label in (*_SUBJECT_FIELDS.items(), ("default_category", "默认主体类别"))
        if (ref := getattr(ds.subject, field)) is not None
    ]
    rows = [
        ("数据代码", ds.code),
        ("数据名称", ds.name),
        ("数据格式", ds.format),
        ("提供单位", ds.provider),
        ("主体类型", "、".join(ds.subject_types)),
        ("信息性质", ds.nature.value),
        ("共享属性", ds.disclosure.value),
        ("覆盖范围", ds.coverage),
        ("更新周期", ds.update_cycle),
        ("目录类别", category.strip()),
        ("纳入依据", ds.legal_basis or "—"),
        ("归集库", ds.database.value if ds.database else "按主体类型"),
        ("名单类型", _LIST_KINDS.get(ds.list_kind, ds.list_kind) if ds.list_kind else "—"),
        ("记录唯一标识", " + ".join(_item_ref(ds, k) for k in ds.natural_key)),
        ("主体信息项", "\n".join(subject)),
        (
            "数据来源单位代码",
            _item_ref(ds, ds.source_dept_code) if ds.source_dept_code else "—",
        ),
        ("决定日期", _item_ref(ds, ds.decision_date) if ds.decision_date else "—"),
        ("校验规则", "\n".join(rule_text(ds, r) for r in ds.rules) or "—"),
    ]
    for label, value in rows:
        attrs.add_row(label, escape(value))
    console().print(attrs)

    items = Table(title=f"信息项（{len(ds.items)} 项）")
    for col in ("代码", "名称", "类型", "必填", "枚举", "脱敏"):
        items.add_column(col, overflow="fold")
    for item in ds.items:
        items.add_row(
            item.code,
            escape(item.name),
            escape(type_text(item)),
            escape(_required_short(ds, item)),
            escape(enum_text(item)),
            "是" if item.mask else "",
        )
    console().print(items)


@app.command("template")
def template(
    dataset: Annotated[str, typer.Argument(help="数据集代码或名称")],
    fmt: Annotated[
        TemplateFormat, typer.Option("--format", "-f", help="模板格式")
    ] = TemplateFormat.XLSX,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="输出文件（默认：<代码>_<名称>_报送模板.<格式>）"),
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """生成数据集的报送模板（Excel 或 CSV，含填写说明）。"""
    from xinyong.catalog.templates import instructions_path, write_template

    with reporting_errors():
        ds = _load(catalog).dataset(dataset)
        path = output or Path(f"{ds.code}_{ds.name}_报送模板.{fmt.value}")
        write_template(ds, "xlsx" if fmt is TemplateFormat.XLSX else "csv", path)
    console().print(f"已生成报送模板：{escape(str(path))}")
    if fmt is TemplateFormat.CSV:
        console().print(f"填写说明：{escape(str(instructions_path(path)))}")
