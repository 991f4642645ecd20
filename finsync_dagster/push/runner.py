"""Pushing a pair's outbox: claim due actions, hand them to their system's handlers, record the outcomes.

The two systems are pushed side by side, one lane (thread, client, claims) each, so a slow M3 does not
hold FreshBooks back. A lane claims up to ``batch`` actions at a time (M3's bulk limit), groups them by
action, and finishes each with the outcome its handler gave, under the fence of its claim. It stops when
nothing is due; with ``settle_seconds`` it first waits out retries due that soon, so a command ends with
everything that can be done done. A handler that raises (a bug, not an API error) leaves its actions to
be retried later, never lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from finsync_dagster.ledger import Action, CrosswalkConflictError, Ledger, Outcome, State, utcnow
from finsync_dagster.ledger.holders import new_owner
from finsync_dagster.push import freshbooks, m3, m3_payables, shop_orders
from finsync_dagster.push.lane import Lane, Results
from finsync_dagster.writeback.config import WriteBackConfig

log = logging.getLogger(__name__)

TARGETS = ("infor", "freshbooks")
HANDLERS: dict[str, dict[str, Callable[[Any, Sequence[Action]], Results]]] = {
    "infor": {**m3.HANDLERS, **m3_payables.HANDLERS},
    "freshbooks": {**freshbooks.HANDLERS, **shop_orders.HANDLERS},
}


@dataclass
class PushReport:
    """What a push did: final states per action kind, and how many claims it lost to another worker."""

    pair: str
    started: datetime = field(default_factory=utcnow)
    finished: datetime | None = None
    states: Counter[tuple[str, str]] = field(default_factory=Counter)
    lost: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, action: Action, outcome: Outcome, *, held: bool) -> None:
        with self._lock:
            if held:
                self.states[(action.action, str(outcome.state))] += 1
            else:
                self.lost += 1

    def count(self, state: str) -> int:
        return sum(n for (_, s), n in self.states.items() if s == state)

    def as_dict(self) -> dict[str, Any]:
        by_action: dict[str, dict[str, int]] = {}
        for (action, state), n in sorted(self.states.items()):
            by_action.setdefault(action, {})[state] = n
        return {
            "pair": self.pair,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "by_action": by_action,
            "lost_claims": self.lost,
            "errors": list(self.errors),
        }


@dataclass
class Pusher:
    """Pushes one pair's outbox; ``open_clients`` maps a target to a function that opens its client."""

    ledger: Ledger
    pair: str
    config: WriteBackConfig
    open_clients: dict[str, Callable[[], Any]]
    company: str = ""
    peers: dict[str, Callable[[], Any]] | None = None  # default: the same openers
    owner: str = field(default_factory=new_owner)
    batch: int = 100
    lease_seconds: float = 30.0
    hang_seconds: float = 600.0
    settle_seconds: float = 0.0
    stop: Callable[[], bool] = field(default=lambda: False)

    def run(self, targets: Sequence[str] = TARGETS) -> PushReport:
        report = PushReport(self.pair)
        chosen = [t for t in targets if t in self.open_clients]
        with ThreadPoolExecutor(max_workers=max(1, len(chosen)), thread_name_prefix="push") as pool:
            for future in [pool.submit(self._lane, target, report) for target in chosen]:
                future.result()
        report.finished = utcnow()
        return report

    def _lane(self, target: str, report: PushReport) -> None:
        lane: Lane[Any] | None = None
        try:
            while not self.stop():
                claimed = self.ledger.claim(
                    pair=self.pair,
                    target=target,
                    owner=self.owner,
                    limit=self.batch,
                    lease_seconds=self.lease_seconds,
                    hang_seconds=self.hang_seconds,
                )
                if not claimed:
                    if self._wait_for_retries():
                        continue
                    return
                if lane is None:
                    client = self.open_clients[target]()
                    peers = dict(self.peers if self.peers is not None else self.open_clients)
                    lane = Lane(
                        self.ledger, client, self.config, self.owner, self.company, self.lease_seconds, self.stop,
                        peers=peers,
                    )  # fmt: skip
                self._handle(target, lane, claimed, report)
        finally:
            if lane is not None:
                lane.close_peers()
                lane.client.close()

    def _handle(self, target: str, lane: Lane[Any], claimed: Sequence[Action], report: PushReport) -> None:
        groups: dict[str, list[Action]] = {}
        for action in claimed:
            groups.setdefault(action.action, []).append(action)
        for name, actions in groups.items():
            handler = HANDLERS[target].get(name)
            try:
                if handler is None:
                    raise LookupError(f"no {target} handler for {name!r}")
                results = handler(lane, actions)
            except Exception as error:  # a bug of ours: the actions wait and the error is shown
                log.exception("pushing %s failed", name)
                report.errors.append(f"{name}: {type(error).__name__}: {error}")
                results = [(action, lane.failed(action, error)) for action in actions]
            answered = {action.key for action, _ in results}
            try:
                held = self.ledger.finish_many(results)
            except CrosswalkConflictError:  # one at a time, so that only the contradicting one fails
                held = [self.ledger.finish(action, outcome) for action, outcome in results]
            for (action, outcome), kept in zip(results, held, strict=True):
                report.add(action, outcome, held=kept)
            untouched = [action for action in actions if action.key not in answered]
            if untouched:  # claims lost mid-batch are the new holder's; any still ours go back
                self.ledger.release(untouched)

    def _wait_for_retries(self) -> bool:
        """Sleep until the next retry of this pair if it is due within ``settle_seconds``; True if slept."""
        if self.settle_seconds <= 0:
            return False
        _due, upcoming, _ = self.ledger.due_summary(self.pair)
        if upcoming is None:
            return False
        wait = (upcoming - utcnow()).total_seconds()
        if wait > self.settle_seconds:
            return False
        time.sleep(max(0.05, wait))
        return True


def settled(ledger: Ledger, pair: str) -> bool:
    """True when no action of the pair is planned, sending, retrying or in doubt."""
    counts = ledger.outbox_counts(pair)
    return not any(
        counts.get(state, 0) for state in (State.PLANNED, State.SENDING, State.RETRY_WAIT, State.IN_DOUBT)
    )
