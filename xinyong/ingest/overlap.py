"""Checking the next chunk while the database works on the current one.

A delivery's checks are Python and hold the interpreter lock; much of its storing is not:
PostgreSQL turns each chunk's ``COPY`` into rows and index entries in its own process while
the client waits for the end of it, and SQLite steps through its inserts with the lock
released. On a machine with two cores, the checks of chunk n+1 can run in that wait.
:func:`checked_ahead` runs a chunk iterator one chunk ahead on its own thread.

An earlier try of the same idea (a thread checking ahead, measured on SQLite only) found no
gain and was dropped (see ``ingest/checking.py``): what makes it pay is PostgreSQL's share.

The waits here have no timeouts on purpose: a timed wait measures against the monotonic
clock, which a shifted test clock (libfaketime) moves, and would then never end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()


class _Ahead(Generic[T]):
    def __init__(self, items: Iterable[T]) -> None:
        self._items = items
        # one chunk checked and waiting, one being checked: memory stays at two chunks
        self._queue: queue.Queue[tuple[object, T | BaseException | None]] = queue.Queue(1)
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._produce, name="xinyong-check", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        failure: BaseException | None = None
        it = iter(self._items)
        try:
            for item in it:
                self._queue.put((None, item))
                if self._stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            failure = exc
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # a generator's own finally (closing the file) runs here
            self._queue.put((_END, failure))

    def __iter__(self) -> Iterator[T]:
        while True:
            tag, value = self._queue.get()
            if tag is _END:
                self._ended = True
                self._thread.join()
                if value is not None:
                    assert isinstance(value, BaseException)
                    raise value
                return
            yield value  # type: ignore[misc]

    def stop(self) -> None:
        """Stop checking ahead and wait for the thread (it finishes the chunk in hand)."""
        if self._ended:
            return
        self._stop.set()
        while True:
            tag, _ = self._queue.get()  # frees the slot the producer may be waiting on
            if tag is _END:
                break
        self._ended = True
        self._thread.join()


@contextmanager
def checked_ahead(items: Iterable[T]) -> Iterator[Iterable[T]]:
    """``items`` iterated one ahead on a thread; leaving the block stops the thread."""
    ahead = _Ahead(items)
    try:
        yield ahead
    finally:
        ahead.stop()
