"""Shopify's leaky bucket, kept on the client's side so a long listing never meets a 429.

Every REST call costs one slot of a bucket (40 on the standard plan) that leaks at a fixed rate (2 a
second; every published plan leaks a twentieth of its size a second, contract 4.1). The client counts a
call when it sends it and drains at the same rate, keeps ``margin`` slots free, and trusts the server's
``X-Shopify-Shop-Api-Call-Limit: used/size`` whenever it says more is used (another process sharing the
app and shop), and its size. After a 429 it takes the bucket as full.
"""

from __future__ import annotations

import threading
import time


class CallBucket:
    def __init__(self, size: int = 40, leak_per_second: float | None = None, margin: int = 2) -> None:
        self.size = size
        self._fixed_leak = leak_per_second
        self.margin = margin
        self.waited = 0.0  # seconds spent waiting for the bucket, for run metadata
        self._level = 0.0
        self._at = time.monotonic()
        self._lock = threading.Lock()

    @property
    def leak_per_second(self) -> float:
        return self._fixed_leak or self.size / 20

    def _drain(self, now: float) -> None:
        self._level = max(0.0, self._level - (now - self._at) * self.leak_per_second)
        self._at = now

    def acquire(self) -> None:
        """Wait until one more call fits below the bucket's size less the margin, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._drain(now)
                limit = max(1, self.size - self.margin)
                if self._level + 1 <= limit:
                    self._level += 1
                    return
                wait = (self._level + 1 - limit) / self.leak_per_second
                self.waited += wait
            time.sleep(wait)

    def observe(self, header: str | None) -> None:
        """Take in the server's ``used/size``; a header that does not parse is ignored."""
        used_text, _, size_text = (header or "").partition("/")
        try:
            used, size = int(used_text), int(size_text)
        except ValueError:
            return
        if size < 1:
            return
        with self._lock:
            self._drain(time.monotonic())
            self.size = size
            self._level = max(self._level, float(used))

    def full(self) -> None:
        """A 429: the server's bucket is full, whatever we counted."""
        with self._lock:
            self._drain(time.monotonic())
            self._level = max(self._level, float(self.size))
