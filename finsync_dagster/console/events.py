"""Event-driven figures of a pair: webhook inbox backlog, webhook -> target latency, pushes per minute.

They come with the events issue (the webhook inbox and the sensors that drain it); until the ledger holds
that data, :func:`event_figures` returns None and the overview says "not available" rather than a zero
that would look like health.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from finsync_dagster.ledger import Ledger


@dataclass(frozen=True)
class EventFigures:
    inbox_backlog: int
    oldest_unprocessed: timedelta | None
    latency_p50: timedelta | None
    latency_p95: timedelta | None
    pushes_per_minute: float | None


def event_figures(ledger: Ledger, pair: str) -> EventFigures | None:
    """The pair's event figures, or None while the ledger has no webhook inbox to read them from."""
    return None
