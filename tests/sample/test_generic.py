"""Every shipped catalogue dataset can actually be delivered: rows made from its definition
pass its own checks on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.sample.datasets import Dept
from xinyong.sample.files import write_csv
from xinyong.sample.generic import generic_rows
from xinyong.sample.world import World

ROOT = Path(__file__).resolve().parents[2]
# These three have hand-written makers with realistic texts and bad rows (tested elsewhere).
OWN_MAKERS = {"XZCF", "XZXK", "FRJC"}
DATASETS = sorted(set(load_catalog(ROOT / "catalog").datasets) - OWN_MAKERS)


@pytest.mark.parametrize("code", DATASETS)
def test_generated_rows_of_every_dataset_are_accepted(
    code: str, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    dataset = catalog.datasets[code]
    sender = next(d for d in catalog.seed_departments.values() if code in d.datasets)
    rows = list(generic_rows(dataset, World(7, 80, 40), Dept(sender.uscc, sender.name), 40))
    path = tmp_path / f"{code}.csv"
    write_csv(path, list(dict.fromkeys(k for r in rows for k in r.cells)), rows, "utf-8")
    with engine.begin() as conn:
        receipt = ingest(
            conn,
            catalog,
            IngestRequest(path=path, dataset=code, dept_uscc=sender.uscc, actor="test"),
        )
    assert receipt.rejects == []
    assert (receipt.received, receipt.new) == (40, 40)
    assert [w for w in receipt.warnings if w["code"] == "COLUMN_UNKNOWN"] == []
