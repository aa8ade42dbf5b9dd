"""The list register (名单目录): every list kind (名单类别) a list entry may be on.

One YAML file per kind in ``catalog/lists/``: its code and name, red or black, its class
(严重失信主体名单 / 失信被执行人 / 重点关注名单 / 经营异常名录 / 守信红名单), the list dataset its
entries are delivered in, the departments that designate it, its legal basis with evidence
marks, entry criteria, default validity, exit and repair rules, and whether natural persons on
it may be published. A broken file fails at load naming the file and the problem.

A list entry names its kind in 名单类别 (``MD_MDLB``) by code or by name; when that is empty the
free-text 名单名称 (``MD_MDMC``) is matched against the kinds' names and aliases, and a dataset
with a single kind needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xinyong import yamlio
from xinyong.catalog.schema import Dataset, Department
from xinyong.errors import CatalogError

KIND_ITEM = "MD_MDLB"  # 名单类别: the coded kind of a list entry
NAME_ITEM = "MD_MDMC"  # 名单名称: free text, kept as the department wrote it


class ListClass(StrEnum):
    SERIOUS = "严重失信主体名单"
    DEFAULTERS = "失信被执行人"
    WATCH = "重点关注名单"
    ABNORMAL = "经营异常名录"
    RED = "守信红名单"


class KindBasis(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    article: str
    item: str | None = None
    evidence: Literal["V", "S", "I"]

    def text(self) -> str:
        art = f"第{self.article}条" if self.article.isdigit() else self.article
        item = f"第（{self.item}）项" if self.item else ""
        return f"《{self.instrument}》{art}{item}"


class ListKind(BaseModel):
    """One list kind of the register."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    name: str
    aliases: tuple[str, ...] = ()
    color: Literal["red", "black"]
    list_class: ListClass = Field(alias="class")
    dataset: str
    designators: tuple[str, ...] = Field(min_length=1)  # department names or USCCs
    basis: tuple[KindBasis, ...] = Field(min_length=1)
    criteria: str
    validity_years: int | None = Field(default=None, ge=1, le=10)
    validity: str
    exit: str
    repair: str
    publish_persons: bool
    source: str

    def basis_text(self) -> str:
        return "；".join(b.text() for b in self.basis)


@dataclass(frozen=True)
class ListRegister:
    """The loaded register, keyed for lookup; ``designated_by`` holds resolved USCCs."""

    kinds: dict[str, ListKind] = field(default_factory=dict)
    designated_by: dict[str, frozenset[str]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def of_dataset(self, dataset: str) -> list[ListKind]:
        return [k for k in self.kinds.values() if k.dataset == dataset]

    def of_classes(self, classes: tuple[str, ...]) -> frozenset[str]:
        return frozenset(k.code for k in self.kinds.values() if k.list_class.value in classes)

    def kind(self, code: str) -> ListKind | None:
        return self.kinds.get(code)

    def resolve(self, dataset: str, given: str | None, name: str | None) -> ListKind | None:
        """The kind a row of ``dataset`` is on: by 名单类别 (code or name, any dataset: the
        caller reports a kind of another dataset), else by 名单名称 among the dataset's kinds,
        else the dataset's only kind."""
        if given:
            key = given.strip()
            found = self.kinds.get(key.upper())
            if found is not None:
                return found
            return next((k for k in self.kinds.values() if key in (k.name, *k.aliases)), None)
        own = self.of_dataset(dataset)
        if name:
            key = name.strip()
            found = next((k for k in own if key in (k.name, *k.aliases)), None)
            if found is not None:
                return found
        return own[0] if len(own) == 1 else None


def _read(path: Path) -> ListKind:
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("CATALOG_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError("LISTS_INVALID", f"{path}: 文件内容应为一个名单类别定义（映射）")
    try:
        return ListKind.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in err['loc']) or '(整项)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise CatalogError("LISTS_INVALID", "\n".join(lines)) from exc


def load_register(
    root: Path, datasets: dict[str, Dataset], departments: dict[str, Department]
) -> ListRegister:
    """Load ``root/*.yaml`` (``catalog/lists``) and check it against the catalogue: each kind's
    dataset is a list dataset, each designator a known department allowed to submit it, and
    every list dataset has at least one kind. No directory: an empty register."""
    if not root.is_dir():
        return ListRegister()
    kinds: dict[str, ListKind] = {}
    files: dict[str, Path] = {}
    by_name = {d.name: d for d in departments.values()}
    designated: dict[str, frozenset[str]] = {}
    names: dict[str, str] = {}
    for path in sorted(root.glob("*.yaml")):
        kind = _read(path)
        if kind.code != path.stem:
            raise CatalogError(
                "LISTS_INVALID", f"{path}: 名单类别代码 {kind.code} 与文件名 {path.stem} 不一致"
            )
        ds = datasets.get(kind.dataset)
        if ds is None or not ds.list_kind:
            raise CatalogError(
                "LISTS_INVALID", f"{path}: 数据集 {kind.dataset} 不是目录中的名单数据集"
            )
        usccs: set[str] = set()
        for ref in kind.designators:
            dept = by_name.get(ref) or departments.get(ref)
            if dept is None:
                raise CatalogError(
                    "LISTS_INVALID", f"{path}: 认定部门“{ref}”不在部门名录（departments.yaml）中"
                )
            if kind.dataset not in dept.datasets:
                raise CatalogError(
                    "LISTS_INVALID",
                    f"{path}: 认定部门“{dept.name}”在部门名录中无权报送 {kind.dataset}",
                )
            usccs.add(dept.uscc)
        for n in (kind.name, *kind.aliases):
            other = names.get(f"{kind.dataset}:{n}")
            if other is not None:
                raise CatalogError(
                    "LISTS_INVALID", f"{path}: 名称“{n}”已用于名单类别 {other}（同一数据集）"
                )
            names[f"{kind.dataset}:{n}"] = kind.code
        kinds[kind.code] = kind
        files[kind.code] = path
        designated[kind.code] = frozenset(usccs)
    for code, ds in datasets.items():
        if ds.list_kind and kinds and not any(k.dataset == code for k in kinds.values()):
            raise CatalogError("LISTS_INVALID", f"{root}: 名单数据集 {code} 没有任何名单类别")
    return ListRegister(kinds=kinds, designated_by=designated, files=files)
