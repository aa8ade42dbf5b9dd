"""How a delivery is cut into chunks changes nothing of its meaning, on both databases.

A file is read, checked and stored chunk by chunk (bounded memory). Rows repeating a key with
different content are all rejected wherever they stand: the groups spanning chunks are found
before anything is stored (``spanning_keys``), or, failing that, the pass stops when it
meets one, the file is scanned for every conflicting group and one pass rejects them from the
start; both ways are held to the same outcome. Hypothesis draws the order of the rows (bad
rows of every kind the sample knows, conflicting and identical repeats, rows changing and
repeating records already stored) and the chunk size; the receipt, the rejects file, the
stored records and their history must be those of the same file read in one chunk.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any
from unittest import mock

from fixtures.deliveries import ENV, SAMR, TODAY, stored_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine

from xinyong.catalog.loader import Catalog
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.sample.datasets import PENALTY_HEADERS, SampleRow, penalty_rows
from xinyong.sample.files import write_csv
from xinyong.sample.world import World


def _rows() -> tuple[list[SampleRow], list[SampleRow]]:
    """Rows already stored, and a delivery: every bad kind, repeats, changes of stored rows."""
    world = World(7, organisations=30, persons=10)
    made = list(
        penalty_rows(
            world, SAMR, 90, bad_share=0.35, pending_share=0.05, other_dept=ENV, today=TODAY
        )
    )
    stored = [r for r in made[:30] if r.expect is None][:12]
    rest = [r for r in made if all(r is not s for s in stored)]
    fact = "违法事实"
    changed = [SampleRow({**r.cells, fact: r.cells[fact] + "（补正）"}, None) for r in stored[:4]]
    return stored, [*rest, *stored[4:8], *changed]


STORED, DELIVERY = _rows()


def _deliver(
    conn: Connection, catalog: Catalog, path: Path, chunk: int, rejects: Path
) -> tuple[dict[str, Any], tuple[Any, ...], bytes]:
    req = IngestRequest(
        path=path,
        dataset="XZCF",
        dept_uscc=SAMR.uscc,
        actor="测试",
        today=TODAY,
        chunk_rows=chunk,
        rejects_path=rejects,
    )
    receipt = ingest(conn, catalog, req).as_dict()
    receipt.pop("batch_id")
    return receipt, stored_state(conn), rejects.read_bytes()


@settings(
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.randoms(use_true_random=False, note_method_calls=False), chunk=st.integers(1, 40))
def test_the_chunk_size_does_not_change_the_outcome(
    engine: Engine, catalog: Catalog, tmp_path: Path, order: random.Random, chunk: int
) -> None:
    base = tmp_path / "base.csv"
    if not base.exists():
        write_csv(base, PENALTY_HEADERS, STORED, "utf-8")
        with engine.begin() as conn:
            req = IngestRequest(
                path=base, dataset="XZCF", dept_uscc=SAMR.uscc, actor="测试", today=TODAY
            )
            assert ingest(conn, catalog, req).new == len(STORED)
    rows = list(DELIVERY)
    order.shuffle(rows)
    path = tmp_path / "delivery.csv"
    write_csv(path, PENALTY_HEADERS, rows, "utf-8")
    outcomes = []
    # the groups spanning chunks found first: the storing pass never starts over
    never = mock.patch("xinyong.ingest.service.scan_conflicts", side_effect=AssertionError)
    # not found first (as for a key without a plain-text item): it starts over from a scan
    later = mock.patch("xinyong.ingest.service.spanning_keys", return_value=None)
    for size, way in ((len(rows) + 1, never), (chunk, never), (chunk, later)):
        with engine.connect() as conn, conn.begin() as tx, way:
            outcomes.append(_deliver(conn, catalog, path, size, tmp_path / f"rejects_{size}.csv"))
            tx.rollback()
    whole = outcomes[0]
    assert whole[0]["rejected"] > 0 and whole[0]["updated"] > 0
    for chunked in outcomes[1:]:
        assert chunked[0] == whole[0]
        assert chunked[2] == whole[2]
        assert chunked[1] == whole[1]
