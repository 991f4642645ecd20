"""A lane: one target system's client and the ledger, as the handlers of that system see them.

Handlers make calls only through a lane, so every call is timed and written to the audit log, each step's
progress is saved under the action's fence, and a claim that changed hands stops before its next call.

The fence keeps a stalled worker from recording anything once it wakes, but neither FreshBooks nor M3
checks fences, so a worker must also not *send* on a claim that may have lapsed while it was stopped
(SIGSTOP, a long GC pause, a suspended VM): :meth:`Lane.may_send` says whether the lease the last
:meth:`Lane.held` renewed is still certainly running, timed from before the renewal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from finsync_dagster.ledger import Action, Call, Ledger, Outcome
from finsync_dagster.push.outcomes import after_error
from finsync_dagster.writeback.config import WriteBackConfig

C = TypeVar("C")
# What one action's calls were, and its progress to save under its fence (None: leave it).
Entry = tuple[Action, Sequence[Call], dict[str, Any] | None]


@dataclass
class Lane(Generic[C]):
    """The ledger, one client, the pair's write-back settings, and the claimer's identity."""

    ledger: Ledger
    client: C
    config: WriteBackConfig
    owner: str
    company: str = ""
    lease_seconds: float = 30.0
    stop: Callable[[], bool] = field(default=lambda: False)
    # Openers of the other systems' clients, for a write that needs to read there first.
    peers: dict[str, Callable[[], Any]] = field(default_factory=dict)
    _opened: dict[str, Any] = field(default_factory=dict, repr=False)
    _leased_until: dict[str, float] = field(default_factory=dict, repr=False)  # action key -> monotonic

    def peer(self, system: str) -> Any:
        """The client of another system (opened once, on first use; closed by :meth:`close_peers`)."""
        if system not in self._opened:
            self._opened[system] = self.peers[system]()
        return self._opened[system]

    def close_peers(self) -> None:
        for client in self._opened.values():
            client.close()
        self._opened.clear()

    def held(self, actions: Sequence[Action]) -> list[Action]:
        """The actions still ours, leases renewed: call right before sending anything for them."""
        renewed_from = time.monotonic()  # the leases run at least this long from here
        renewed = self.ledger.renew_many(actions, lease_seconds=self.lease_seconds)
        ours = [action for action, held in zip(actions, renewed, strict=True) if held]
        for action in ours:
            self._leased_until[action.key] = renewed_from + self.lease_seconds
        return ours

    def may_send(self, action: Action) -> bool:
        """Whether the lease renewed by :meth:`held` certainly still runs: check right before a write."""
        return time.monotonic() < self._leased_until.get(action.key, 0.0)

    def record(self, entries: Sequence[Entry]) -> list[bool]:
        return self.ledger.record_many(entries)

    def failed(self, action: Action, error: BaseException, request: dict[str, Any] | None = None) -> Outcome:
        return after_error(
            action,
            error,
            max_attempts=self.config.max_attempts,
            recheck_minutes=self.config.recheck_minutes,
            request=request,
        )

    @contextmanager
    def timed(self) -> Iterator[Callable[[], int]]:
        """``with lane.timed() as elapsed:`` ... ``elapsed()`` is the milliseconds since entering."""
        started = time.monotonic()
        yield lambda: int((time.monotonic() - started) * 1000)


Results = list[tuple[Action, Outcome]]
