"""Operations on the catalogue directory (信用信息目录) that change it.

The catalogue is YAML data edited by people, with comments that explain where facts come from.
Changes are therefore made by appending text, never by re-dumping parsed YAML (which would
drop every comment), and the directory is re-loaded afterwards to prove it is still valid; a
change that breaks it is undone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from xinyong.catalog.loader import load_catalog
from xinyong.catalog.schema import Department
from xinyong.codes import check_uscc, division_known
from xinyong.errors import CatalogError

__all__ = ["DEPARTMENTS_FILE", "add_department"]

DEPARTMENTS_FILE = "departments.yaml"

_DIVISION_RE = re.compile(r"\d{6}")
_LIST_ITEM_RE = re.compile(r"^( *)- ", re.MULTILINE)
_TOP_KEY_RE = re.compile(r"^departments:[ \t]*(\[[ \t]*\])?[ \t]*(#.*)?$", re.MULTILINE)


def _scalar(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: codes made only of digits stay
    # strings, and names with ':' or '#' need no further thought.
    return json.dumps(value, ensure_ascii=False)


def _block(indent: str, dept: Department) -> str:
    inner = indent + "  "
    datasets = ", ".join(_scalar(d) for d in dept.datasets)
    return (
        f"{indent}- uscc: {_scalar(dept.uscc)}\n"
        f"{inner}name: {_scalar(dept.name)}\n"
        f"{inner}division: {_scalar(dept.division)}\n"
        f"{inner}datasets: [{datasets}]\n"
    )


def _appended(text: str, dept: Department) -> str:
    """``text`` of departments.yaml with ``dept`` added at the end of its list."""
    if text and not text.endswith("\n"):
        text += "\n"
    top = _TOP_KEY_RE.search(text)
    if top is None:
        text += "departments:\n"
    elif top.group(1):
        # `departments: []` — an empty flow list cannot take a block item after it.
        text = text[: top.start()] + "departments:" + text[top.end() :]
        if not text.endswith("\n"):
            text += "\n"
    items = _LIST_ITEM_RE.search(text, top.end()) if top else None
    indent = items.group(1) if items else "  "
    return text + _block(indent, dept)


def add_department(
    root: Path, uscc: str, name: str, datasets: list[str], division: str = "410900"
) -> Department:
    """Register a submitting department (报送部门) in ``root/departments.yaml``.

    Checks the 统一社会信用代码, that the unit is not already registered and that every
    dataset exists (given by code or name), then appends the entry and re-loads the catalogue.
    Raises :class:`CatalogError` with a stable code and a Chinese message.
    """
    code = uscc.strip().upper()
    check = check_uscc(code)
    if not check.ok:
        raise CatalogError(
            "DEPT_USCC_INVALID", f"部门统一社会信用代码“{uscc.strip()}”无效：{check.message}"
        )
    code = check.value
    name = name.strip()
    if not name:
        raise CatalogError("DEPT_NAME_EMPTY", "部门名称不能为空")
    division = division.strip()
    if not _DIVISION_RE.fullmatch(division) or not division_known(division):
        raise CatalogError(
            "DEPT_DIVISION_INVALID", f"行政区划代码“{division}”无效，应为6位行政区划代码，如 410900"
        )

    catalog = load_catalog(root)
    if code in catalog.departments:
        existing = catalog.departments[code]
        raise CatalogError(
            "DEPT_EXISTS", f"统一社会信用代码 {code} 已登记为报送部门“{existing.name}”"
        )
    for dept in catalog.departments.values():
        if dept.name == name:
            raise CatalogError(
                "DEPT_EXISTS", f"报送部门“{name}”已登记，统一社会信用代码为 {dept.uscc}"
            )
    codes: list[str] = []
    for ref in datasets:
        ds = catalog.dataset(ref)  # DATASET_UNKNOWN names the datasets that do exist
        if ds.code not in codes:
            codes.append(ds.code)

    new = Department(uscc=code, name=name, division=division, datasets=tuple(codes))
    path = root / DEPARTMENTS_FILE
    before = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text(_appended(before or "", new), encoding="utf-8")
    try:
        if load_catalog(root).departments.get(code) != new:
            raise CatalogError(
                "CATALOG_INVALID",
                f"{path}: 追加后未能读回部门 {code}；请确认 departments 是文件中最后一个键",
            )
    except CatalogError:
        if before is None:
            path.unlink()
        else:
            path.write_text(before, encoding="utf-8")
        raise
    return new
