"""The sandbox's clock: real UTC time plus an offset that tests and ``/sandbox/clock`` can move.

Every ``LMDT``/``LMTS`` stamp and every token expiry reads this clock, so moving it forward ages tokens and
dates changes without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SandboxClock:
    def __init__(self, source: Callable[[], datetime] | None = None) -> None:
        self._source = source or (lambda: datetime.now(UTC))
        self._offset = timedelta()
        self._last_lmts = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._source() + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (aware or naive UTC); the clock keeps running from there."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            self._offset = when - self._source()
        return self.now()

    def stamp(self) -> tuple[datetime, int]:
        """Now, and an ``LMTS`` that is strictly greater than any handed out before (yyyyMMddHHmmssfff)."""
        now = self.now()
        candidate = lmts_of(now)
        with self._lock:
            self._last_lmts = max(candidate, self._last_lmts + 1)
            return now, self._last_lmts

    def observe(self, lmts: int) -> None:
        """Seeds stamp records themselves; later stamps must still sort after them."""
        with self._lock:
            self._last_lmts = max(self._last_lmts, lmts)


def lmts_of(when: datetime) -> int:
    utc = when.astimezone(UTC)
    return int(utc.strftime("%Y%m%d%H%M%S")) * 1000 + utc.microsecond // 1000
