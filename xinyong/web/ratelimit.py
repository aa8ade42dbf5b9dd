"""Rate limits (访问频率限制) on the endpoints scrapers hit: public search and report download.

A fixed one-minute window per client address and bucket, kept in the process: the portal runs
as one process per host, and a limit that resets on restart is still a limit. A limit of 0 is
off (tests that are not about limits, benchmarks).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from xinyong.errors import XinyongError

_MAX_CLIENTS = 100_000  # bounded memory whatever the number of addresses seen


class RateLimited(XinyongError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("RATE_LIMITED", f"访问过于频繁，请在 {retry_after} 秒后再试")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self) -> None:
        self._windows: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, bucket: str, client: str, per_minute: int) -> None:
        """Count one request; raise :class:`RateLimited` when over the limit."""
        if per_minute <= 0:
            return
        now = time.monotonic()
        window = int(now // 60)
        key = (bucket, client)
        with self._lock:
            start, count = self._windows.pop(key, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[key] = (start, count)
            while len(self._windows) > _MAX_CLIENTS:
                self._windows.popitem(last=False)
        if count > per_minute:
            raise RateLimited(max(1, int((window + 1) * 60 - now)))
