"""The HMAC keys of each pair's verified FreshBooks callbacks: read from the ledger, kept in memory.

A delivery names its event but not its callback, so its key is the verifier of a verified callback on
that event or on the event's parent name. The keys are reloaded when older than ``max_age`` (``finsync
webhooks register`` runs in another process), and at most every ``min_reload`` seconds on a signature
that matches none, so a flood of forged requests cannot turn into a flood of ledger reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from finsync_dagster.ledger import Ledger
from finsync_dagster.webhooks.freshbooks import parent


@dataclass
class _Loaded:
    at: float
    keys: dict[str, list[str]]  # event or parent name -> verifiers


class Verifiers:
    def __init__(
        self,
        ledger: Ledger,
        *,
        max_age: float = 5.0,
        min_reload: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self._max_age = max_age
        self._min_reload = min_reload
        self._clock = clock
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()
        self._loading = threading.Lock()  # one read at a time: the requests that found the keys stale wait

    def lookup(self, pair: str, event: str) -> list[str] | None:
        """The keys for ``event`` from memory, or None when they must be (re)loaded first."""
        loaded = self._loaded.get(pair)
        if loaded is None or self._clock() - loaded.at > self._max_age:
            return None
        return loaded.keys.get(event, []) + loaded.keys.get(parent(event), [])

    def may_reload(self, pair: str) -> bool:
        loaded = self._loaded.get(pair)
        return loaded is None or self._clock() - loaded.at > self._min_reload

    def load(self, pair: str) -> None:
        """Read the pair's verified callbacks (blocking: call it off the event loop); a read that another
        request has just made is not repeated."""
        with self._loading:
            if not self.may_reload(pair):
                return
            keys: dict[str, list[str]] = {}
            for callback in self._ledger.webhook_callbacks(pair=pair, system="freshbooks"):
                if callback.verified and callback.secret:
                    keys.setdefault(callback.event, []).append(callback.secret)
            with self._lock:
                self._loaded[pair] = _Loaded(self._clock(), keys)

    def forget(self, pair: str) -> None:
        with self._lock:
            self._loaded.pop(pair, None)
