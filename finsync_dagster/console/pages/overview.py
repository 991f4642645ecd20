"""Pairs at a glance: last reconciliation and lag, what is open and the money at stake, the outbox's dead
and in-doubt actions, the event figures when they exist, and links into the Dagster UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from finsync_dagster.console.auth import page
from finsync_dagster.console.data import open_queue
from finsync_dagster.console.events import EventFigures, event_figures, ledger_figures
from finsync_dagster.console.web import Console, console_of, render
from finsync_dagster.ledger import State
from finsync_dagster.ledger.operations import LedgerFigures


@dataclass
class PairFigures:
    pair: str
    reconciled_at: datetime | None
    lag: timedelta | None
    to_review: int
    exceptions: int
    at_stake: dict[str, Decimal]
    outbox: dict[str, int]
    dead_letters: int
    oldest_in_doubt: datetime | None
    events: EventFigures | None
    links: dict[str, str] = field(default_factory=dict)

    @property
    def dead(self) -> int:
        return self.outbox.get(State.DEAD, 0)

    @property
    def in_doubt(self) -> int:
        return self.outbox.get(State.IN_DOUBT, 0)

    def as_json(self) -> dict[str, Any]:
        events = self.events
        return {
            "pair": self.pair,
            "reconciled_at": self.reconciled_at.isoformat() if self.reconciled_at else None,
            "lag_seconds": int(self.lag.total_seconds()) if self.lag else None,
            "to_review": self.to_review,
            "exceptions": self.exceptions,
            "at_stake": {currency: str(amount) for currency, amount in self.at_stake.items()},
            "outbox": dict(self.outbox),
            "dead_letters": self.dead_letters,
            "oldest_in_doubt": self.oldest_in_doubt.isoformat() if self.oldest_in_doubt else None,
            "events": None
            if events is None
            else {
                "inbox_backlog": events.inbox_backlog,
                "latency_p50_seconds": _seconds(events.latency_p50),
                "latency_p95_seconds": _seconds(events.latency_p95),
                "pushes_per_minute": events.pushes_per_minute,
            },
        }


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()


def dagster_links(base: str | None, pair: str) -> dict[str, str]:
    if not base:
        return {}
    base = base.rstrip("/")
    tag = quote(f"tag:dagster/partition={pair}", safe="")
    return {
        "runs": f"{base}/runs?q%5B0%5D={tag}",
        "assets": f"{base}/assets",
        "report": f"{base}/assets/reports/reconciliation_report",
    }


def pair_figures(console: Console, pair: str, figures: LedgerFigures) -> PairFigures:
    snapshot, queue = open_queue(console, pair)
    ledger = console.ledger
    reconciled = snapshot.written_at if snapshot else None
    return PairFigures(
        pair=pair,
        reconciled_at=reconciled,
        lag=datetime.now(UTC) - reconciled if reconciled else None,
        to_review=len(queue.to_review),
        exceptions=len(queue.exceptions),
        at_stake=queue.at_stake(),
        outbox=ledger.outbox_counts(pair),
        dead_letters=len(ledger.dead_letters(pair=pair)),
        oldest_in_doubt=ledger.oldest_in_doubt(pair),
        events=event_figures(figures, pair),
        links=dagster_links(console.dagster_url, pair),
    )


def every_pair(console: Console) -> list[PairFigures]:
    figures = ledger_figures(console.ledger)
    return [pair_figures(console, pair, figures) for pair in console.settings.pair_names]


@page()
async def overview(request: Request) -> Response:
    console = console_of(request)
    rows = await run_in_threadpool(every_pair, console)
    return render(request, "overview.html.j2", active="overview", rows=rows)


@page()
async def overview_json(request: Request) -> Response:
    console = console_of(request)
    rows = await run_in_threadpool(every_pair, console)
    return JSONResponse({"pairs": [row.as_json() for row in rows]})
