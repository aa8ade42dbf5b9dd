"""Code data an operator keeps in the catalogue (``catalog/codes/``), beside the bundled tables.

- ``registration_offices.yaml``: registration-office codes (USCC positions 3–8) that GB/T 2260
  does not list — development zones, management areas, 农垦 — so valid USCCs carrying them
  raise no warning.
- ``issued_exceptions.yaml``: codes legally issued although they fail their check character,
  each with the issuing authority's notice; they are accepted with a warning.

The checkers stay pure functions: they read the code catalogue in use, which is the bundled one
until :func:`use_code_catalog` installs another (``load_catalog`` does, for the catalogue the
platform runs on). Loaded once; a lookup is a dict access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import xinyong
from xinyong import yamlio

__all__ = [
    "CodeCatalog",
    "IssuedException",
    "code_catalog",
    "load_code_catalog",
    "use_code_catalog",
]


@dataclass(frozen=True, slots=True)
class IssuedException:
    code: str
    name: str
    authority: str
    notice: str


@dataclass(frozen=True, slots=True)
class CodeCatalog:
    offices: dict[str, str] = field(default_factory=dict)  # code → full name
    exceptions: dict[str, IssuedException] = field(default_factory=dict)


class CodeCatalogError(ValueError):
    """A code catalogue file is malformed (the message names the file and the entry)."""


def _entries(path: Path, key: str) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CodeCatalogError(f"{path}: “{key}”应为条目列表")
    return entries


def _text(path: Path, n: int, entry: dict[str, object], name: str) -> str:
    value = entry.get(name)
    if value is None or str(value).strip() == "":
        raise CodeCatalogError(f"{path}: 第 {n} 条缺少“{name}”")
    return str(value).strip()


def load_code_catalog(folder: Path) -> CodeCatalog:
    """Read ``folder/registration_offices.yaml`` and ``folder/issued_exceptions.yaml``."""
    offices: dict[str, str] = {}
    path = folder / "registration_offices.yaml"
    for n, e in enumerate(_entries(path, "offices"), 1):
        code = _text(path, n, e, "code")
        if len(code) != 6 or not code.isdigit():
            raise CodeCatalogError(f"{path}: 第 {n} 条代码“{code}”应为6位数字")
        parts = [str(e.get(k) or "") for k in ("province", "prefecture")]
        offices[code] = "".join(p for p in parts if p and p != "直辖") + _text(path, n, e, "name")
    exceptions: dict[str, IssuedException] = {}
    path = folder / "issued_exceptions.yaml"
    for n, e in enumerate(_entries(path, "codes"), 1):
        code = _text(path, n, e, "code").upper()
        exceptions[code] = IssuedException(
            code,
            _text(path, n, e, "name"),
            _text(path, n, e, "authority"),
            _text(path, n, e, "notice"),
        )
    return CodeCatalog(offices, exceptions)


def _bundled_folder() -> Path:
    # Same rule as xinyong.settings.bundled_catalog_dir (not imported: the checkers stay light).
    package = Path(xinyong.__file__).resolve().parent
    installed = package / "_bundled_catalog"
    return (installed if installed.is_dir() else package.parent / "catalog") / "codes"


_in_use: list[CodeCatalog] = []


@cache
def _bundled() -> CodeCatalog:
    return load_code_catalog(_bundled_folder())


def code_catalog() -> CodeCatalog:
    """The code catalogue in use: the last one installed, else the bundled one."""
    return _in_use[-1] if _in_use else _bundled()


def use_code_catalog(catalog: CodeCatalog) -> None:
    """Make ``catalog`` the one the checkers read (the platform's catalogue folder)."""
    _in_use[:] = [catalog]
