"""The measures list of the configured catalogue, loaded once per catalogue directory.

For code that runs without a catalogue in hand (after-batch steps, the daily job)."""

from __future__ import annotations

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
    return _load(Path(get_settings().catalog_dir).resolve())
