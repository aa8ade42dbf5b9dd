"""The worker of delivery jobs: it drains the queue one job at a time (SQLite has one writer
anyway; on PostgreSQL one at a time keeps a delivery's CPU from crowding out the portal's
requests). The queue's state is in the database (``queue.py``), so a restart loses nothing.

Two ways to run it (``XINYONG_DELIVERY_WORKER``):

- ``thread`` (default): a thread of the web process, started when a job is queued and ending
  when the queue is empty; the web application calls ``start`` when it starts, which recovers
  crashed jobs and drains what was queued. Simple, but a delivery's parsing shares the web
  process's interpreter (the GIL) with the portal's requests;
- ``process``: the web application only queues; ``xinyong worker`` (``serve``) polls the queue
  in a process of its own with its own connections, so a delivery never takes CPU time from
  the portal's interpreter. Production should use this."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.ingest import queue

log = logging.getLogger("xinyong.ingest.worker")

# After a busy database (another delivery, from the command line, holds the write lock), wait
# this long before trying the job again.
RETRY_PAUSE_S = 2.0


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        *,
        chunk_rows: int = 5000,
        external: bool = False,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.chunk_rows = chunk_rows
        # another process (``xinyong worker``) drains the queue: this one only queues
        self.external = external
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._kicked = False
        # rows handled so far of the running job (shown on the clerk's page; in memory only,
        # as SQLite allows no second writer to record it while the delivery holds the lock)
        self.progress: dict[int, int] = {}

    def start(self) -> None:
        """At start-up: fail the jobs a dead process left running; drain what is queued."""
        if self.external:
            return
        recovered = queue.recover(self.engine)
        if recovered:
            log.warning("%d delivery job(s) interrupted by a restart marked failed", recovered)
        if queue.has_queued(self.engine):
            self.wake()

    def wake(self) -> None:
        """A job was queued (and committed): make sure a thread will see it."""
        if self.external:
            return  # the worker process polls the queue
        with self._lock:
            self._kicked = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._drain, name="xinyong-delivery-worker", daemon=True
                )
                self._thread.start()

    def busy(self) -> bool:
        with self._lock:
            return self._thread is not None

    def join(self, timeout_s: float | None = None) -> None:
        """Wait until the queue is drained (tests, shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._kicked:
                    self._thread = None
                    return
                self._kicked = False
            try:
                self._run_queued()
            except Exception:  # the database went away; the jobs stay queued for a restart
                log.exception("delivery worker stopped")
                with self._lock:
                    self._thread = None
                return

    def serve(self, *, interval_s: float = 1.0, once: bool = False) -> None:
        """``xinyong worker``: recover crashed jobs, then drain the queue and poll it every
        ``interval_s``; with ``once``, return when the queue is empty."""
        recovered = queue.recover(self.engine)
        if recovered:
            log.warning("%d delivery job(s) interrupted by a restart marked failed", recovered)
        while True:
            self._run_queued()
            if once and not queue.has_queued(self.engine):
                return
            time.sleep(interval_s)

    def _run_queued(self) -> None:
        while (job := queue.claim_next(self.engine)) is not None:
            self.progress[job.id] = 0

            def tick(rows: int, job_id: int = job.id) -> None:
                self.progress[job_id] = self.progress.get(job_id, 0) + rows

            try:
                outcome = queue.run(
                    self.engine, self.catalog, job, chunk_rows=self.chunk_rows, progress=tick
                )
            finally:
                self.progress.pop(job.id, None)
            log.info("delivery job %d: %s", job.id, outcome)
            if outcome == "retry":
                with self._lock:
                    self._kicked = True
                time.sleep(RETRY_PAUSE_S)
                return
