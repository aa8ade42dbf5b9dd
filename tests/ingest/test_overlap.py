"""Checking one chunk ahead on a thread (ingest/overlap.py): same items, same order, the
producer's failure raised in the consumer, and no thread left behind when the consumer stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from xinyong.errors import FileRefused
from xinyong.ingest.overlap import checked_ahead


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name == "xinyong-check"}


def test_items_arrive_in_order_and_the_thread_ends() -> None:
    with checked_ahead(iter(range(100))) as ahead:
        assert list(ahead) == list(range(100))
    assert not _threads()


def test_a_failure_of_the_producer_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def chunks() -> Iterator[int]:
        yield 1
        yield 2
        raise FileRefused("FILE_CSV_BROKEN", "第 3 行 CSV 格式错误")

    seen: list[int] = []
    with pytest.raises(FileRefused) as refused, checked_ahead(chunks()) as ahead:
        for item in ahead:
            seen.append(item)
    assert seen == [1, 2]
    assert refused.value.code == "FILE_CSV_BROKEN"
    assert not _threads()


def test_leaving_early_stops_the_producer_and_closes_its_generator() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def chunks() -> Iterator[int]:
        try:
            for n in range(1000):
                produced.append(n)
                yield n
        finally:
            closed.set()  # the reader's file is closed here in the real generator

    class Stop(Exception):
        pass

    with pytest.raises(Stop), checked_ahead(chunks()) as ahead:
        for item in ahead:
            if item == 3:
                raise Stop
    assert closed.is_set()
    assert not _threads()
    # one chunk waiting and one in hand at most, not the whole file
    assert len(produced) <= 6
