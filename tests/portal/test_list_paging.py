"""Keyset paging of the public lists (双公示, 红黑榜) on each backend: walking a list page by
page by its cursors shows every record exactly once, in order, while deliveries add records
between the pages; walking back by the ``prev`` cursors gives the same pages; records without
a decision date come last; a malformed cursor is a domain error, not a stack trace."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures.deliveries import HENGDA, XINYUAN, penalty, run, write_csv
from sqlalchemy import Engine, update

from xinyong.catalog.loader import Catalog
from xinyong.errors import XinyongError
from xinyong.portal import service as portal
from xinyong.portal.service import Cursor, ListPaging
from xinyong.records.models import records

NEWEST = date(2026, 10, 30)  # before the ingestion's "today" (fixtures.deliveries.TODAY)
SIZE = 7


class Deliveries:
    """Penalties delivered through the real ingestion, each file committed on its own."""

    def __init__(self, engine: Engine, catalog: Catalog, folder: Path) -> None:
        self.engine, self.catalog, self.folder = engine, catalog, folder
        self.n = 0

    def deliver(self, *decided: date) -> list[str]:
        rows = []
        for day in decided:
            self.n += 1
            wsh = f"濮市监罚决字〔2026〕{self.n:05d}号"
            rows.append(
                penalty(
                    XINYUAN if self.n % 2 else HENGDA,
                    wsh,
                    处罚决定日期=f"{day:%Y/%m/%d}",
                    处罚有效期=f"{day + timedelta(days=365):%Y/%m/%d}",
                )
            )
        path = write_csv(self.folder / f"xzcf-{self.n}.csv", rows)
        receipt = run(self.engine, self.catalog, path)
        assert receipt.rejected == 0, receipt.rejects
        return [r["行政处罚决定书文号"] for r in rows]


def _wsh(item: dict[str, Any]) -> str:
    return next(i["value"] for i in item["items"] if i["code"] == "CF_WSH")


def _page(engine: Engine, catalog: Catalog, **paging: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        return portal.publicity_list(conn, catalog, "xzcf", paging=ListPaging(SIZE, **paging))


def _order_key(item: dict[str, Any]) -> tuple[int, str, int]:
    # page order: newest decision first, no date last, then the newer record (higher id) first
    day = item["decision_date"]
    return (day is None, "" if day is None else _invert(day), -item["id"])


def _invert(day: str) -> str:
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in day)


@pytest.fixture
def deliveries(engine: Engine, catalog: Catalog, tmp_path: Path) -> Deliveries:
    return Deliveries(engine, catalog, tmp_path)


def test_pages_show_every_record_once_while_records_are_added(
    engine: Engine, catalog: Catalog, deliveries: Deliveries
) -> None:
    # 30 records, four or five a day (ties on the decision date), two without a date
    first = deliveries.deliver(*(NEWEST - timedelta(days=i // 4) for i in range(30)))
    with engine.begin() as conn:
        conn.execute(
            update(records)
            .where(records.c.data["CF_WSH"].as_string().in_(first[-2:]))
            .values(decision_date=None)
        )
    seen: list[dict[str, Any]] = []
    must_appear: set[str] = set(first)
    must_not: set[str] = set()
    after: str | None = None
    while True:
        found = _page(engine, catalog, after=after)
        assert len(found["items"]) <= SIZE
        seen += found["items"]
        if found["next"] is None:
            break
        after = found["next"]
        last = Cursor.parse(after)
        assert last.decision_date is not None  # the undated rows are never passed by a delivery
        # between two pages: a record newer than the page (before it: not shown in this walk),
        # one of the cursor's own day (a higher id sorts before the cursor: not shown either)
        # and an older one (after the cursor: shown once, further on)
        newer, same, older = deliveries.deliver(
            NEWEST + timedelta(days=1), last.decision_date, last.decision_date - timedelta(days=1)
        )
        must_not |= {newer, same}
        must_appear.add(older)
    shown = [_wsh(i) for i in seen]
    assert len(shown) == len(set(shown)), "a record was shown twice"
    assert must_appear <= set(shown), f"skipped: {sorted(must_appear - set(shown))}"
    assert not must_not & set(shown)
    assert seen == sorted(seen, key=_order_key), "out of page order"
    assert [_wsh(i) for i in seen[-2:]] == sorted(first[-2:], reverse=True)  # undated last

    # back from the last page by the prev cursors: every record now in the list (those
    # delivered during the walk too), in page order, each once, and no prev on the first page
    back: list[dict[str, Any]] = []
    before = _page(engine, catalog, after=after)["prev"] if after else None
    last_page = _page(engine, catalog, after=after)["items"] if after else []
    while before is not None:
        found = _page(engine, catalog, before=before)
        back = found["items"] + back
        before = found["prev"]
    walked = back + last_page
    assert [_wsh(i) for i in walked] == [_wsh(i) for i in sorted(walked, key=_order_key)]
    assert sorted(_wsh(i) for i in walked) == sorted(set(shown) | must_not)


def test_the_count_is_capped_and_the_ends_have_no_cursor(
    engine: Engine, catalog: Catalog, deliveries: Deliveries, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliveries.deliver(*(NEWEST - timedelta(days=i) for i in range(12)))
    first = _page(engine, catalog)
    assert (first["total"], first["total_capped"], first["prev"]) == (12, False, None)
    second = _page(engine, catalog, after=first["next"])
    assert len(second["items"]) == 12 - SIZE and second["next"] is None
    assert second["total"] is None  # counted on the first page only
    assert _page(engine, catalog, before=second["prev"])["items"] == first["items"]
    monkeypatch.setattr(portal, "COUNT_CAP", 10)
    capped = _page(engine, catalog)
    assert (capped["total"], capped["total_capped"]) == (10, True)


def test_a_filtered_answer_is_counted_only_when_one_page_holds_it(
    engine: Engine, catalog: Catalog, deliveries: Deliveries
) -> None:
    # a filter the index does not hold would make the count read every match (issue 13): a
    # filtered answer longer than a page has no total, one that fits a page its own length
    deliveries.deliver(*(NEWEST - timedelta(days=i) for i in range(12)))
    with engine.connect() as conn:

        def since(day: date, **paging: Any) -> dict[str, Any]:
            return portal.publicity_list(
                conn, catalog, "xzcf", date_from=day, paging=ListPaging(SIZE, **paging)
            )

        longer = since(NEWEST - timedelta(days=11))
        assert (longer["total"], longer["total_capped"], len(longer["items"])) == (
            None,
            False,
            SIZE,
        )
        rest = since(NEWEST - timedelta(days=11), after=longer["next"])
        assert (rest["total"], len(rest["items"]), rest["next"]) == (None, 12 - SIZE, None)
        fits = since(NEWEST - timedelta(days=2))
        assert (fits["total"], fits["total_capped"], fits["next"]) == (3, False, None)
        assert since(NEWEST + timedelta(days=1))["total"] == 0
        # the home page's newest rows: no count at all
        newest = portal.publicity_list(conn, catalog, "xzcf", paging=ListPaging(SIZE), count=False)
        assert newest["total"] is None and len(newest["items"]) == SIZE


@pytest.mark.parametrize("cursor", ["x", "2026.1", "20261345.3", "20260101.", "1" * 60, "-.-1"])
def test_a_malformed_cursor_is_refused_with_its_code(cursor: str) -> None:
    with pytest.raises(XinyongError) as refused:
        ListPaging(after=cursor).cursor()
    assert refused.value.code == "CURSOR_INVALID"


def test_a_cursor_reads_back_as_written() -> None:
    for c in (Cursor(date(2026, 3, 2), 12345), Cursor(None, 7)):
        assert Cursor.parse(str(c)) == c
