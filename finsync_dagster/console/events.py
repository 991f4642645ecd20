"""Event-driven figures of a pair: webhook inbox backlog, webhook -> target latency, pushes per minute.

The same figures as ``finsync status`` (the ledger's :func:`~finsync_dagster.ledger.operations.figures`),
read once per page for every pair. Without a webhook inbox in the ledger they are None, and the overview
says "not available" rather than a zero that would look like health.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from finsync_dagster.ledger import Ledger, utcnow
from finsync_dagster.ledger.operations import LedgerFigures
from finsync_dagster.status.figures import percentile

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class EventFigures:
    inbox_backlog: int
    oldest_unprocessed: timedelta | None
    latency_p50: timedelta | None
    latency_p95: timedelta | None
    pushes_per_minute: float | None


def ledger_figures(ledger: Ledger, now: datetime | None = None) -> LedgerFigures:
    return ledger.figures(now=now or utcnow(), window=WINDOW)


def event_figures(figures: LedgerFigures, pair: str, now: datetime | None = None) -> EventFigures | None:
    """The pair's event figures, or None while the ledger has no webhook inbox to read them from."""
    if not figures.inbox_available:
        return None
    now = now or utcnow()
    oldest = figures.inbox_oldest.get(pair)
    latencies = figures.latency_seconds.get(pair, [])
    return EventFigures(
        inbox_backlog=figures.inbox_backlog.get(pair, 0),
        oldest_unprocessed=None if oldest is None else max(timedelta(0), now - oldest),
        latency_p50=_span(percentile(latencies, 0.5)),
        latency_p95=_span(percentile(latencies, 0.95)),
        pushes_per_minute=round(figures.pushes.get(pair, 0) / (WINDOW.total_seconds() / 60), 2),
    )


def _span(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)
