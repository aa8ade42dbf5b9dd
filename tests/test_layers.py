"""The layers of the package (docs/architecture.md, "Layers"): a module imports only from its
own unit and from units of lower layers. Every import counts, also one inside a function or
under ``TYPE_CHECKING``: a deferred import that dodges a cycle is the back door this closes.

Pure parsing (ast), no import of the package: the test reads what the code says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "xinyong"

# Bottom first. A unit is a package or a module (its dotted name under xinyong); a module
# belongs to the longest unit that names it. Keep in step with docs/architecture.md.
LAYERS: list[list[str]] = [
    ["errors", "clock", "yamlio"],
    ["settings", "codes", "cells"],
    ["db", "daily", "catalog"],
    # who acts, and the permission rules every service applies
    ["accounts.roles", "workdays"],
    ["accounts.policy"],
    ["audit", "subjects"],
    ["batches", "departments"],
    ["records"],
    ["accounts", "disclosure", "measures"],
    ["notifications", "reports"],
    ["lists"],
    ["evaluation"],
    ["checks", "portal", "cases", "exchange", "opendata"],
    # reads what every service above keeps, per department and period
    # the reconciliation service finds candidates through the portal's name index
    ["assessment", "reconcile"],
    ["jobs"],
    ["ingest", "backup"],
    ["sample"],
    ["web"],
    ["cli", "models"],
    ["migrations"],
]

UNIT_LAYER: dict[str, int] = {unit: n for n, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str | None:
    """The unit ``xinyong.a.b.c`` belongs to: the longest listed prefix of ``a.b.c``."""
    parts = module.split(".")[1:]
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in UNIT_LAYER:
            return candidate
    return None


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """Every ``xinyong`` module ``path`` imports, wherever the statement stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # ``from xinyong.x import y`` may name a module y: count it as xinyong.x.y
            found.extend((node.lineno, f"{target}.{a.name}") for a in node.names)
    return [(line, name) for line, name in found if name.startswith("xinyong.")]


def _modules() -> list[tuple[Path, str]]:
    return [(p, _module_name(p)) for p in sorted(PACKAGE.rglob("*.py"))]


def test_every_module_has_a_layer() -> None:
    unplaced = [name for _, name in _modules() if name != "xinyong" and unit_of(name) is None]
    assert not unplaced, f"add these to LAYERS (and docs/architecture.md): {unplaced}"


def test_no_module_imports_from_a_layer_above_or_beside_it() -> None:
    wrong: list[str] = []
    for path, module in _modules():
        own = unit_of(module)
        if own is None:
            continue
        for line, target in _imports(path, module):
            unit = unit_of(target)
            if unit is None or unit == own:
                continue
            if UNIT_LAYER[unit] >= UNIT_LAYER[own]:
                where = path.relative_to(PACKAGE.parent)
                wrong.append(f"{where}:{line} ({own}) imports {target} ({unit})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("module", "unit"),
    [
        ("xinyong.accounts.roles", "accounts.roles"),
        ("xinyong.accounts.service", "accounts"),
        ("xinyong.records.keys", "records"),
        ("xinyong.errors", "errors"),
    ],
)
def test_units_are_the_longest_listed_prefix(module: str, unit: str) -> None:
    assert unit_of(module) == unit


def test_the_check_sees_deferred_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from xinyong.web.app import create_app\n"
        "def f() -> None:\n    from xinyong.cli import app\n    from . import sibling\n",
        encoding="utf-8",
    )
    found = [name for _, name in _imports(source, "xinyong.records.m")]
    assert found == ["xinyong.web.app.create_app", "xinyong.cli.app", "xinyong.records.sibling"]
