"""The measures list of the configured catalogue, loaded once per catalogue directory.

For code that runs without a catalogue in hand (after-batch steps, the daily job)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.measures.catalog import Measures, load_measures, measures_dir
from xinyong.settings import get_settings


@cache
def _load(root: Path) -> tuple[Catalog, Measures]:
    catalog = load_catalog(root)
    return catalog, load_measures(measures_dir(catalog), catalog)


def configured() -> tuple[Catalog, Measures]:
    """The catalogue and measures list of ``settings.catalog_dir``."""
    given = str(get_settings().catalog_dir)
    return _load_at(given, "" if os.path.isabs(given) else os.getcwd())


@cache
def _load_at(given: str, cwd: str) -> tuple[Catalog, Measures]:
    # resolving a path is a system call per component (≈ 40 µs), and public pages ask for the
    # measures on every request: it is resolved once per directory as given
    return _load(Path(cwd, given).resolve())
