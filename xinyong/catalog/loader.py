"""Load catalogue YAML files into typed definitions.

A broken file fails at load time with the file, the item and the problem named, so that an
operator who edits the catalogue learns what is wrong before any department file is read.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xinyong import yamlio
from xinyong.catalog.lists import ListRegister, load_register
from xinyong.catalog.schema import Dataset, Department
from xinyong.codes.catalog import (
    CodeCatalog,
    CodeCatalogError,
    load_code_catalog,
    use_code_catalog,
)
from xinyong.errors import CatalogError


@dataclass(frozen=True)
class Catalog:
    """Everything the catalogue directory holds, keyed for lookup."""

    root: Path
    datasets: dict[str, Dataset]
    # departments.yaml: only the seed of the departments table (xinyong.departments), never
    # read at run time; the database is where departments live.
    seed_departments: dict[str, Department]
    lists: ListRegister = field(default_factory=ListRegister)  # 名单目录 (catalog/lists)

    def dataset(self, code_or_name: str) -> Dataset:
        """Find a dataset by its 数据代码 or its 数据名称."""
        key = code_or_name.strip()
        if key.upper() in self.datasets:
            return self.datasets[key.upper()]
        for ds in self.datasets.values():
            if ds.name == key:
                return ds
        known = "、".join(f"{d.code}（{d.name}）" for d in self.datasets.values())
        raise CatalogError("DATASET_UNKNOWN", f"目录中没有数据集“{key}”。现有：{known}")


def _read_yaml(path: Path) -> Any:
    try:
        return yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("CATALOG_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc


def _describe(path: Path, raw: Any, exc: ValidationError) -> str:
    """Turn a pydantic error into 'file: item CODE (field): problem' lines."""
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        # Name the item by its code rather than by its index in the list.
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            try:
                code = raw["items"][loc[1]].get("code", f"#{loc[1] + 1}")
            except (KeyError, IndexError, TypeError, AttributeError):
                code = f"#{loc[1] + 1}"
            rest = ".".join(str(p) for p in loc[2:]) or "(整项)"
            where = f"信息项 {code} 的 {rest}"
        lines.append(f"{path}: {where}: {err['msg']}")
    return "\n".join(lines)


def load_dataset(path: Path) -> Dataset:
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise CatalogError("CATALOG_SHAPE", f"{path}: 文件内容应为一个数据集定义（映射）")
    try:
        ds = Dataset.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError("CATALOG_INVALID", _describe(path, raw, exc)) from exc
    if ds.code != path.stem:
        raise CatalogError(
            "CATALOG_INVALID", f"{path}: 数据代码 {ds.code} 与文件名 {path.stem} 不一致"
        )
    return ds


def load_departments(path: Path) -> dict[str, Department]:
    if not path.exists():
        return {}
    raw = _read_yaml(path) or {}
    entries = raw.get("departments", []) if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise CatalogError("CATALOG_SHAPE", f"{path}: 应有 departments 列表")
    out: dict[str, Department] = {}
    for n, entry in enumerate(entries, start=1):
        try:
            dept = Department.model_validate(entry)
        except ValidationError as exc:
            raise CatalogError("CATALOG_INVALID", f"{path}: 第 {n} 个部门: {exc}") from exc
        if dept.uscc in out:
            raise CatalogError("CATALOG_INVALID", f"{path}: 部门代码 {dept.uscc} 重复")
        out[dept.uscc] = dept
    return out


# A process asks for the catalogue from several places (the command, the publicity rules, the
# measures): each folder is parsed once while its files stay byte for byte the same (the YAML
# of 48 datasets costs a tenth of a second, more than a small delivery's own work).
_loaded: dict[Path, tuple[bytes, Catalog, CodeCatalog | None]] = {}
_loaded_lock = threading.Lock()


def _fingerprint(root: Path) -> bytes:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def load_catalog(root: Path) -> Catalog:
    """Load ``root/datasets/*.yaml``, ``root/departments.yaml`` and the list register
    ``root/lists/*.yaml``, and cross-check them. The same unchanged folder is read once."""
    key = root  # as given: the catalogue keeps the root it was asked for
    fingerprint = _fingerprint(root) if root.is_dir() else b""
    with _loaded_lock:
        kept = _loaded.get(key)
    if kept is not None and kept[0] == fingerprint:
        if kept[2] is not None:
            use_code_catalog(kept[2])
        return kept[1]
    catalog, codes = _read_catalog(root)
    with _loaded_lock:
        _loaded[key] = (fingerprint, catalog, codes)
    return catalog


def _read_catalog(root: Path) -> tuple[Catalog, CodeCatalog | None]:
    ds_dir = root / "datasets"
    if not ds_dir.is_dir():
        raise CatalogError("CATALOG_MISSING", f"目录文件夹不存在：{ds_dir}")
    datasets: dict[str, Dataset] = {}
    for path in sorted(ds_dir.glob("*.yaml")):
        ds = load_dataset(path)
        datasets[ds.code] = ds
    departments = load_departments(root / "departments.yaml")
    for dept in departments.values():
        unknown = [d for d in dept.datasets if d not in datasets]
        if unknown:
            raise CatalogError(
                "CATALOG_INVALID",
                f"{root / 'departments.yaml'}: 部门 {dept.name} 引用了不存在的数据集 "
                + "、".join(unknown),
            )
    codes_dir = root / "codes"
    codes = None
    if codes_dir.is_dir():
        try:
            codes = load_code_catalog(codes_dir)
        except (CodeCatalogError, yaml.YAMLError) as exc:
            raise CatalogError("CATALOG_INVALID", str(exc)) from exc
        use_code_catalog(codes)
    # designators are resolved against the departments seed: catalogue data, as the kinds
    lists = load_register(root / "lists", datasets, departments)
    catalog = Catalog(root=root, datasets=datasets, seed_departments=departments, lists=lists)
    return catalog, codes
