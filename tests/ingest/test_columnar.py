"""One meaning, two paths: the columnar checks and the row checker agree on every delivery.

Hypothesis draws deliveries of 行政处罚 rows (the sample's bad rows of every kind, repeats,
changes of stored records) and then spoils cells with every kind of bad cell the catalogue
knows for the item's type: dates in every form and impossible or future ones, amounts in words,
negative or with too many places, enumerations by code, alias, in the wrong case or unknown,
codes with a wrong check character, in lower case, too short or of another kind, ID numbers of
15 digits, with a lower-case x, born in the future, of an unknown region or too long, cells
too long, padded, empty, with invisible or compatibility characters, another department's
code, and free text. The columnar path (``ingest/columnar.py``) and the row path must then give
the same checked rows, and, on both databases, the same receipt, rejects file, stored rows,
history and subjects.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from fixtures.deliveries import ENV, SAMR, TODAY, stored_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select

from xinyong.batches.readers import Row
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.schema import Item, ItemType
from xinyong.ingest.checking import check_chunk, check_row
from xinyong.ingest.columns import ColumnPlan
from xinyong.ingest.rows import RowChecker
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.sample.datasets import PENALTY_HEADERS, SampleRow, penalty_rows
from xinyong.sample.files import write_csv
from xinyong.sample.world import World
from xinyong.settings import Settings
from xinyong.subjects.models import subjects

_WORLD = World(11, organisations=40, persons=20)
_ROWS = [
    r.cells
    for r in penalty_rows(
        _WORLD,
        SAMR,
        120,
        bad_share=0.3,
        pending_share=0.05,
        person_share=0.3,
        other_dept=ENV,
        today=TODAY,
    )
]
_DATASET = load_catalog(Settings().catalog_dir).dataset("XZCF")
_USCC = [o.uscc for o in _WORLD.orgs[:4]]
_ID = [p.id_number for p in _WORLD.persons[:3]]


def _bad_cells(item: Item) -> list[str]:
    """Cells an item may be spoilt with: the forms departments send, valid or not."""
    # "{}" stands for the cell's own value: padded with every kind of space str.strip() knows
    pads = ["{} ", "\u3000{}", "\t{}", "{}\xa0", "\x1c{}", "{}\u2028", "\u200b{}", "{}\x85"]
    common = ["", " ", "\u3000", "\u200b", "\x1f", "=1+1", *pads]
    long = "长" * ((item.max_length or 200) + 1)
    match item.type:
        case ItemType.DATE:
            return [
                *common,
                *("2024/5/1", "2024年5月1日", "20240501", "2024.05.01", "2024-05-01 00:00:00"),
                *("2024-02-30", "2024-13-01", "2099/12/31", "2026-11-02", "2027-01-01"),
                *("1900-01-01", " 2024-05-01 ", "２０２４-05-01", "昨天", "2024-5-1"),
            ]
        case ItemType.DECIMAL:
            return [*common, "0.2", "0.20", "1,000", "-1", "五千元", "0.0000001", "00.5"]
        case ItemType.INTEGER | ItemType.YEAR:
            return [*common, ".5", "1e3", " 3 ", "１２", "0"]
        case ItemType.ENUM:
            options = [v for o in item.enum for v in (o.code, o.label, *o.aliases)]
            odd = [
                "1",
                "3",
                "０１",
                "罚款；警告",
                "警告,罚款",
                "罚款;罚款",
                "警告;",
                "无此项",
                "法 人",
            ]
            return [*common, *options, *odd]
        case ItemType.USCC | ItemType.TAXPAYER_NO:
            return [
                *common,
                *_USCC,
                _USCC[0].lower(),
                _USCC[1][:-1] + ("0" if _USCC[1][-1] != "0" else "1"),
                _USCC[2][:17],
                "410902" + _USCC[3][8:17],  # a 15-character 税务登记号
                _USCC[0].replace(_USCC[0][10], "I"),
                SAMR.uscc,
                ENV.uscc,
                "92" + _USCC[0][2:],
            ]
        case ItemType.ORG_CODE:
            return [*common, _USCC[0][8:17], _USCC[1][8:17], "12345678X", "1234567"]
        case ItemType.REG_NO:
            return [*common, "410900000012345", "41090000001234", "abc"]
        case ItemType.ID_NUMBER:
            return [
                *common,
                *_ID,
                _ID[0][:-1] + "x",
                _ID[1][:6] + _ID[1][8:17],  # the 15-digit form
                _ID[2][:-1] + ("0" if _ID[2][-1] != "0" else "1"),
                "99" + _ID[0][2:],
                _ID[0][:6] + "20300101" + _ID[0][14:],
                "A" * 65,
                "护照E12345678",
            ]
    return [
        *common,
        long,
        "濮阳市\u200b某公司",
        "濮阳市（某）公司",
        "ﬁ公司",
        "某\x07公司",
        "\u202e司公",
    ]


_HEADER_OF = {item.name: item for item in _DATASET.items}
_POOLS = {h: _bad_cells(_HEADER_OF[h]) for h in PENALTY_HEADERS if h in _HEADER_OF}
_free_text = st.text(
    alphabet="0123456789-/.年月日 ;；，Xx\u200b\u3000罚款警告法人自然", max_size=12
)
_spoil = st.tuples(
    st.integers(0, len(_ROWS) - 1),
    st.sampled_from(sorted(_POOLS)).flatmap(
        lambda h: st.tuples(st.just(h), st.one_of(st.sampled_from(_POOLS[h]), _free_text))
    ),
)
_spoils = st.lists(_spoil, min_size=5, max_size=80)


def _spoilt(spoils: list[tuple[int, tuple[str, str]]]) -> list[dict[str, str]]:
    rows = [dict(r) for r in _ROWS]
    for at, (header, value) in spoils:
        rows[at][header] = value.replace("{}", rows[at].get(header, ""))
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spoils=_spoils, order=st.randoms(use_true_random=False))
def test_a_row_passing_the_columnar_checks_is_checked_as_the_row_checker_does(
    spoils: list[tuple[int, tuple[str, str]]], order: random.Random
) -> None:
    cells = [[r.get(h, "") for h in PENALTY_HEADERS] for r in _spoilt(spoils)]
    order.shuffle(cells)
    chunk: list[Row] = [(n + 2, row, None) for n, row in enumerate(cells)]
    plan = ColumnPlan(_DATASET, list(PENALTY_HEADERS))
    columnar = check_chunk(RowChecker(_DATASET, SAMR.uscc, TODAY), plan, chunk)
    assert columnar is not None
    by_row = [check_row(RowChecker(_DATASET, SAMR.uscc, TODAY), plan, row) for row in chunk]
    assert columnar == by_row


def test_most_rows_of_an_ordinary_delivery_pass_the_columnar_checks() -> None:
    """The columnar path is taken, not only allowed: a delivery's valid rows (dates written
    2024/05/01 or 2024年5月1日, enumerations by code) skip the row checker's cell checks."""
    from xinyong.ingest.columnar import clean_rows

    cells = [[r.get(h, "") for h in PENALTY_HEADERS] for r in _ROWS]
    plan = ColumnPlan(_DATASET, list(PENALTY_HEADERS))
    passed = clean_rows(RowChecker(_DATASET, SAMR.uscc, TODAY), plan, cells).passed
    assert sum(passed) >= 0.6 * len(cells)
    assert not all(passed)


def _subjects(conn: Connection) -> list[tuple[str, ...]]:
    cols = (subjects.c.category, subjects.c.name, subjects.c.uscc, subjects.c.org_code)
    more = (subjects.c.id_number, subjects.c.other_id, subjects.c.reg_no)
    return sorted(tuple(str(v) for v in r) for r in conn.execute(select(*cols, *more)))


def _deliver(
    conn: Connection, catalog: Catalog, path: Path, chunk: int, rejects: Path, columnar: bool
) -> tuple[Any, ...]:
    req = IngestRequest(
        path=path,
        dataset="XZCF",
        dept_uscc=SAMR.uscc,
        actor="测试",
        today=TODAY,
        chunk_rows=chunk,
        rejects_path=rejects,
        columnar=columnar,
    )
    receipt = ingest(conn, catalog, req).as_dict()
    receipt.pop("batch_id")
    return receipt, rejects.read_bytes(), stored_state(conn), _subjects(conn)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spoils=_spoils, chunk=st.integers(16, 130))
def test_the_columnar_and_the_row_path_store_the_same(
    engine: Engine,
    catalog: Catalog,
    tmp_path: Path,
    spoils: list[tuple[int, tuple[str, str]]],
    chunk: int,
) -> None:
    base = tmp_path / "base.csv"
    if not base.exists():  # records already stored, which the delivery repeats and changes
        stored = [SampleRow(r) for r in _ROWS[:40:3]]
        write_csv(base, PENALTY_HEADERS, stored, "utf-8")
        with engine.begin() as conn:
            req = IngestRequest(
                path=base, dataset="XZCF", dept_uscc=SAMR.uscc, actor="测试", today=TODAY
            )
            ingest(conn, catalog, req)
    rows = _spoilt(spoils)
    fact = "违法事实"
    rows += [{**r, fact: r[fact] + "（补正）"} for r in _ROWS[3:40:9]]
    path = tmp_path / "delivery.csv"
    write_csv(path, PENALTY_HEADERS, [SampleRow(r) for r in rows], "utf-8")
    outcomes = []
    for columnar in (False, True):
        with engine.connect() as conn, conn.begin() as tx:
            rejects = tmp_path / f"rejects_{columnar}.csv"
            outcomes.append(_deliver(conn, catalog, path, chunk, rejects, columnar))
            tx.rollback()
    by_row, by_column = outcomes
    assert by_row[0]["rejected"] > 0 and by_row[0]["new"] > 0
    assert by_column[0] == by_row[0]
    assert by_column[1] == by_row[1]
    assert by_column[2] == by_row[2]
    assert by_column[3] == by_row[3]
