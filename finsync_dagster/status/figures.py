"""The figures of one pair, built by a pure function from what the ledger, the report and Dagster say."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from finsync_dagster.ledger import Ledger, utcnow
from finsync_dagster.ledger.operations import LedgerFigures, TokenHealth
from finsync_dagster.settings import Settings, is_pair_name
from finsync_dagster.status.reports import ReportFigures, latest_report_figures

# The jobs whose success counts as a sync of the pair.
SYNC_JOBS = ("read_side", "full_refresh")


@dataclass(frozen=True)
class RunInfo:
    """A Dagster run of a finsync job for a pair."""

    run_id: str
    job: str
    pair: str
    status: str  # Dagster's run status: SUCCESS, FAILURE, STARTED, ...
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None = None


@dataclass(frozen=True)
class TokenStatus:
    provider: str
    health: str  # ok, expiring, expired, reconnect_needed
    expires_at: datetime | None
    refresh_token: bool
    reason: str | None


@dataclass
class PairStatus:
    pair: str
    declared: bool
    last_sync_at: datetime | None
    lag_seconds: float | None
    last_run: RunInfo | None
    exceptions: int | None
    at_stake: dict[str, Decimal] | None
    report: str | None
    outbox: dict[str, int]
    dead: int
    in_doubt: int
    oldest_in_doubt_at: datetime | None
    dead_letters_open: int
    dead_letters_new: int
    pushes_last_hour: int
    inbox_available: bool
    inbox_backlog: int | None
    inbox_oldest_at: datetime | None
    last_webhook_at: datetime | None
    latency_p50_seconds: float | None
    latency_p95_seconds: float | None
    tokens: list[TokenStatus] = field(default_factory=list)

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The pair as ``finsync status --json`` gives it (a stable shape; README)."""

        def when(value: datetime | None) -> str | None:
            return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")

        def age(value: datetime | None) -> float | None:
            return None if value is None else round(max(0.0, (now - value).total_seconds()), 1)

        return {
            "pair": self.pair,
            "declared": self.declared,
            "last_sync_at": when(self.last_sync_at),
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 1),
            "last_run": None
            if self.last_run is None
            else {
                "run_id": self.last_run.run_id,
                "job": self.last_run.job,
                "status": self.last_run.status,
                "started_at": when(self.last_run.started_at),
                "ended_at": when(self.last_run.ended_at),
            },
            "exceptions": self.exceptions,
            "at_stake": None if self.at_stake is None else {c: str(a) for c, a in self.at_stake.items()},
            "report": self.report,
            "outbox": dict(sorted(self.outbox.items())),
            "dead": self.dead,
            "in_doubt": self.in_doubt,
            "oldest_in_doubt_at": when(self.oldest_in_doubt_at),
            "oldest_in_doubt_age_seconds": age(self.oldest_in_doubt_at),
            "dead_letters_open": self.dead_letters_open,
            "dead_letters_last_hour": self.dead_letters_new,
            "pushes_last_hour": self.pushes_last_hour,
            "inbox": {
                "available": self.inbox_available,
                "backlog": self.inbox_backlog,
                "oldest_age_seconds": age(self.inbox_oldest_at),
                "last_webhook_at": when(self.last_webhook_at),
                "latency_p50_seconds": self.latency_p50_seconds,
                "latency_p95_seconds": self.latency_p95_seconds,
            },
            "tokens": [
                {
                    "provider": t.provider,
                    "health": t.health,
                    "expires_at": when(t.expires_at),
                    "refresh_token": t.refresh_token,
                    "reason": t.reason,
                }
                for t in self.tokens
            ],
        }


@dataclass
class StatusReport:
    generated_at: datetime
    pairs: list[PairStatus]
    inbox_available: bool


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0-1) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 3)


def token_status(token: TokenHealth, now: datetime, *, expiring_within: timedelta) -> TokenStatus:
    """Whether a token will keep working: one with a refresh token renews itself; one without it dies at
    ``expires_at``; one marked for reconnection works no more (only ``finsync connect`` helps)."""
    if token.reconnect_reason:
        health = "reconnect_needed"
    elif token.has_refresh_token or token.expires_at is None:
        health = "ok"
    elif token.expires_at <= now:
        health = "expired"
    elif token.expires_at <= now + expiring_within:
        health = "expiring"
    else:
        health = "ok"
    return TokenStatus(
        token.provider, health, token.expires_at, token.has_refresh_token, token.reconnect_reason
    )


def pair_status(
    pair: str,
    *,
    declared: bool,
    ledger: LedgerFigures,
    report: ReportFigures | None,
    runs: Sequence[RunInfo],
    now: datetime,
    expiring_within: timedelta = timedelta(hours=24),
) -> PairStatus:
    """Everything known about ``pair`` as one record. The last sync is the newer of the latest report and
    the latest successful sync run; the lag is how long ago that was."""
    synced = [r.ended_at for r in runs if r.job in SYNC_JOBS and r.status == "SUCCESS" and r.ended_at]
    if report is not None:
        synced.append(report.written_at)
    last_sync = max(synced, default=None)
    outbox = ledger.outbox.get(pair, {})
    latencies = ledger.latency_seconds.get(pair, [])
    return PairStatus(
        pair=pair,
        declared=declared,
        last_sync_at=last_sync,
        lag_seconds=None if last_sync is None else max(0.0, (now - last_sync).total_seconds()),
        last_run=max(runs, key=lambda r: r.started_at or now, default=None),
        exceptions=None if report is None else report.exceptions,
        at_stake=None if report is None else report.at_stake,
        report=None if report is None else report.html,
        outbox=outbox,
        dead=outbox.get("dead", 0),
        in_doubt=outbox.get("in_doubt", 0),
        oldest_in_doubt_at=ledger.oldest_in_doubt.get(pair),
        dead_letters_open=ledger.dead_letters_open.get(pair, 0),
        dead_letters_new=ledger.dead_letters_new.get(pair, 0),
        pushes_last_hour=ledger.pushes.get(pair, 0),
        inbox_available=ledger.inbox_available,
        inbox_backlog=ledger.inbox_backlog.get(pair, 0) if ledger.inbox_available else None,
        inbox_oldest_at=ledger.inbox_oldest.get(pair),
        last_webhook_at=ledger.last_webhook.get(pair),
        latency_p50_seconds=percentile(latencies, 0.5),
        latency_p95_seconds=percentile(latencies, 0.95),
        tokens=[
            token_status(t, now, expiring_within=expiring_within) for t in ledger.tokens if t.account == pair
        ],
    )


def gather(
    settings: Settings,
    ledger: Ledger,
    *,
    runs: Mapping[str, Sequence[RunInfo]] | None = None,
    now: datetime | None = None,
    window: timedelta = timedelta(hours=1),
) -> StatusReport:
    """Every declared pair, and every pair the ledger knows of that is no longer declared."""
    now = now or utcnow()
    figures = ledger.figures(now=now, window=window)
    runs = runs or {}
    known = set(figures.outbox) | set(figures.dead_letters_open) | {t.account for t in figures.tokens}
    names = [*settings.pair_names, *sorted(known - set(settings.pair_names))]
    expiring = timedelta(hours=settings.alerts.rules.token_expiry_hours or 24)
    pairs = [
        pair_status(
            name,
            declared=name in settings.pair_names,
            ledger=figures,
            report=latest_report_figures(settings, name) if is_pair_name(name) else None,
            runs=runs.get(name, ()),
            now=now,
            expiring_within=expiring,
        )
        for name in names
    ]
    return StatusReport(generated_at=now, pairs=pairs, inbox_available=figures.inbox_available)
