"""The receiver's Prometheus metrics, in a registry of its own (served at ``/metrics``).

Labels are the system and the refusal reason only: never a pair name or anything else taken from a
request that has not been verified, so a caller cannot grow the label set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    exposition,
    generate_latest,
)

CONTENT_TYPE = exposition.CONTENT_TYPE_LATEST
SYSTEMS = ("freshbooks", "shop")


@dataclass(frozen=True)
class SystemCounters:
    """One system's counters, bound once (``labels()`` takes a lock and a lookup on every call)."""

    received: Any
    accepted: Any
    duplicates: Any


class ReceiverMetrics:
    def __init__(self) -> None:
        # The ``*_created`` timestamps say nothing a scraper needs.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self.received = Counter(
            "finsync_webhook_received", "Requests to a webhook endpoint", ["system"], registry=self.registry
        )
        self.accepted = Counter(
            "finsync_webhook_accepted", "Deliveries stored in the inbox", ["system"], registry=self.registry
        )
        self.duplicates = Counter(
            "finsync_webhook_duplicates",
            "Deliveries answered 200 that an earlier delivery already covered",
            ["system"],
            registry=self.registry,
        )
        self.refused = Counter(
            "finsync_webhook_refused",
            "Requests refused, nothing stored",
            ["system", "reason"],
            registry=self.registry,
        )
        self.handshakes = Counter(
            "finsync_webhook_handshakes", "FreshBooks callbacks verified", registry=self.registry
        )
        self.batch_size = Histogram(
            "finsync_inbox_batch_size",
            "Deliveries committed per inbox transaction (group commit)",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "finsync_inbox_commit_seconds",
            "Time to write and commit one inbox batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

        self._systems = {
            system: SystemCounters(
                self.received.labels(system), self.accepted.labels(system), self.duplicates.labels(system)
            )
            for system in SYSTEMS
        }

    def of(self, system: str) -> SystemCounters:
        return self._systems[system]

    def render(self) -> bytes:
        return generate_latest(self.registry)
