"""Checking the alert rules: observe, evaluate (pure, ``rules``), remember (ledger), deliver (``channels``).

:func:`check_once` is the whole cycle, for ``finsync alerts check``, for the loop of ``finsync alerts run``
(every ``alerts.interval_seconds``, 30 s by default, so a condition is told within a minute) and for a
Dagster sensor or ``finsync serve`` (pass the instance they have). States are saved before anything is
sent, and a channel is marked told only after it delivered: a crash between the two sends that one
notification again, never loses it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from finsync_dagster.alerts.channels import Channel, DeliveryError, channels_from
from finsync_dagster.alerts.rules import FIRING, OK, Notification, Observations, conditions, evaluate
from finsync_dagster.ledger import Ledger, utcnow
from finsync_dagster.settings import Settings
from finsync_dagster.status import RunInfo, gather

if TYPE_CHECKING:
    import dagster as dg

_FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass
class CheckResult:
    firing: list[str] = field(default_factory=list)  # "rule subject" of every condition firing now
    delivered: list[tuple[Notification, str]] = field(default_factory=list)
    failed: list[tuple[Notification, str, str]] = field(default_factory=list)  # ..., channel, error


def check_once(
    settings: Settings,
    ledger: Ledger,
    *,
    instance: dg.DagsterInstance | None = None,
    channels: Sequence[Channel] | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """One evaluation of every rule, and delivery of what is due. Without ``instance``, the run-based
    inputs (failed runs, what polls saw) are left out and their alerts keep their last state."""
    now = now or utcnow()
    rules = settings.alerts.rules
    if channels is None:
        channels = channels_from(
            settings.alerts, os.environ if env is None else env, config_path=str(settings.config_path)
        )
    runs = _runs(instance, settings) if instance is not None else None
    growth = rules.dead_letter_growth
    window = timedelta(minutes=growth.window_minutes if growth else 60)
    report = gather(settings, ledger, runs=runs, now=now, window=window)
    observed = Observations(
        now=now,
        pairs=report.pairs,
        finished_runs={pair: [r for r in rs if r.status in _FINISHED] for pair, rs in (runs or {}).items()},
        poll_changes_at=_poll_changes(instance, settings.pair_names)
        if instance is not None and report.inbox_available and rules.webhook_silence_minutes
        else {},
        runs_known=runs is not None,
    )
    found = conditions(observed, rules)
    evaluation = evaluate(
        found,
        ledger.alert_states(),
        now=now,
        channels=[c.name for c in channels],
        unobserved=observed.unobserved,
    )
    ledger.save_alert_states(evaluation.changed)
    result = CheckResult(firing=[f"{c.rule} {c.subject}" for c in found if c.firing])
    by_name = {channel.name: channel for channel in channels}
    for notification, channel_name in evaluation.due:
        try:
            by_name[channel_name].send(notification)
        except DeliveryError as exc:
            result.failed.append((notification, channel_name, str(exc)))
            continue
        ledger.mark_alert_notified(
            notification.rule,
            notification.subject,
            channel=channel_name,
            told=FIRING if not notification.recovered else OK,
        )
        result.delivered.append((notification, channel_name))
    return result


def _runs(instance: dg.DagsterInstance, settings: Settings) -> dict[str, list[RunInfo]]:
    from finsync_dagster.status.runs import latest_runs

    return latest_runs(instance, settings.pair_names)


def _poll_changes(instance: dg.DagsterInstance, pairs: Sequence[str]) -> dict[str, datetime]:
    """When a read of FreshBooks last brought new, changed or deleted records, per pair (the staging
    assets' materialization metadata)."""
    import dagster as dg

    from finsync_dagster.staging.freshbooks_tables import FRESHBOOKS_TABLES

    found: dict[str, datetime] = {}
    for pair in pairs:
        for table in FRESHBOOKS_TABLES:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(["staging", table]), asset_partitions=[pair]),
                limit=5,
            ).records
            for record in records:
                materialization = record.asset_materialization
                if materialization is None:
                    continue
                meta = materialization.metadata
                changed = sum(
                    int(getattr(meta.get(k), "value", 0) or 0) for k in ("inserted", "updated", "deleted")
                )
                if changed:
                    at = datetime.fromtimestamp(record.timestamp, UTC)
                    found[pair] = max(found.get(pair, at), at)
                    break
    return found


def run_forever(
    settings: Settings,
    ledger: Ledger,
    *,
    instance: dg.DagsterInstance | None = None,
    channels: Sequence[Channel] | None = None,
    stop: threading.Event | None = None,
    on_result: object = None,
) -> None:
    """:func:`check_once` every ``alerts.interval_seconds`` until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        result = check_once(settings, ledger, instance=instance, channels=channels)
        if callable(on_result):
            on_result(result)
        stop.wait(settings.alerts.interval_seconds)
