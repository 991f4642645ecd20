"""The one virtual clock of every sandbox: real UTC time plus an offset, which tests can move or freeze.

Token expiries, ``updated`` stamps, M3's ``LMDT``/``LMTS`` and overdue invoices all read it, so moving it
forward ages tokens and dates changes without sleeping. ``/sandbox/clock`` (see ``control.py``) moves it
over HTTP with the same body on both systems.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any


class SandboxClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen: float | None = None
        self._last_lmts = 0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Epoch seconds on the sandbox's clock."""
        frozen = self._frozen
        return frozen if frozen is not None else time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, when: datetime | float, *, frozen: bool = False) -> datetime:
        """Jump to ``when`` (epoch seconds, or a datetime; naive means UTC); frozen stops it there."""
        if isinstance(when, datetime):
            when = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        with self._lock:
            if frozen:
                self._frozen = float(when)
            else:
                self._frozen = None
                self._offset = float(when) - time.time()
        return self.now()

    def stamp(self) -> tuple[datetime, int]:
        """Now, and an ``LMTS`` strictly greater than any handed out before (yyyyMMddHHmmssfff).

        Strictly increasing even on a frozen clock, so M3 change cursors never see two changes as one.
        """
        now = self.now()
        candidate = lmts_of(now)
        with self._lock:
            self._last_lmts = max(candidate, self._last_lmts + 1)
            return now, self._last_lmts

    def observe(self, lmts: int) -> None:
        """Seeds stamp records themselves; later stamps must still sort after them."""
        with self._lock:
            self._last_lmts = max(self._last_lmts, lmts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now().isoformat().replace("+00:00", "Z"),
            "epoch": self.time(),
            "frozen": self.frozen,
            "offset_seconds": self._offset,
        }


def lmts_of(when: datetime) -> int:
    utc = when.astimezone(UTC)
    return int(utc.strftime("%Y%m%d%H%M%S")) * 1000 + utc.microsecond // 1000
