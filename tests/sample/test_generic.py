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
    # a list entry is on a kind its department designates (名单目录)
    kind = next(
        (
            k
            for k in catalog.lists.of_dataset(code)
            if sender.uscc in catalog.lists.designated_by[k.code]
        ),
        None,
    )
    dept = Dept(sender.uscc, sender.name)
    rows = list(generic_rows(dataset, World(7, 80, 40), dept, 40, kind=kind))
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


def test_demo_list_entries_carry_kinds_of_their_departments_and_few_red_collide(
    tmp_path: Path, catalog: Catalog
) -> None:
    from xinyong.sample.files import generate

    deliveries = generate(tmp_path, catalog, seed=3)
    yzsx = {d.dept for d in deliveries if d.dataset == "YZSX"}
    # every department designating a YZSX kind delivers its own file
    assert {
        k for c in ("WAGE", "STAT", "TAX", "GP") for k in catalog.lists.designated_by[c]
    } <= yzsx
    from xinyong.batches.readers import open_source

    def subjects_of(dataset: str) -> set[str]:
        out: set[str] = set()
        for d in deliveries:
            if d.dataset != dataset:
                continue
            source = open_source(tmp_path / d.file)
            try:
                cols = [source.headers.index(h) for h in ("统一社会信用代码", "证件号码")]
                for _, cells, _ in source.rows:
                    out |= {cells[c] for c in cols if c < len(cells) and cells[c]}
            finally:
                source.close()
        return out

    red = subjects_of("SXHMD")
    assert red and len(red & subjects_of("YZSX")) <= len(red) // 10
