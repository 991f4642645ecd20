"""The event side's sensors: sync a pair when its webhooks say something changed.

``inbox_sensor`` reads the ledger's inbox past its cursor (the last inbox id it read), at most
:data:`INBOX_BATCH` rows a tick, and asks for one ``event_sync`` run per pair in the batch, keyed by the
batch's first and last ids. It marks the rows processed as it asks (the inbox's contract: a prompt for the
same object arriving after that is stored again and makes a new run). If the tick fails after marking, its
cursor is not saved: the next tick reads the same rows, finds them taken by an inbox run key, and asks for
that run again under the same key, which Dagster skips if it was launched and launches if it was not.

Default stopped, like the schedules (``schedules.default_status``); ``finsync serve`` runs them.
"""

from __future__ import annotations

import dagster as dg

from finsync_dagster.automation.decisions import INBOX_BATCH, inbox_batches
from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.resources import LedgerResource
from finsync_dagster.settings import Settings

INBOX_SENSOR_SECONDS = 5
INBOX_TAG = "finsync/inbox"


def sensor_status(settings: Settings) -> dg.DefaultSensorStatus:
    running = settings.schedules.default_status == "running"
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


def build_event_sensors(
    settings: Settings, *, event_sync: dg.UnresolvedAssetJobDefinition
) -> list[dg.SensorDefinition]:
    pairs = settings.pair_names

    @dg.sensor(
        name="inbox_sensor",
        job=event_sync,
        minimum_interval_seconds=INBOX_SENSOR_SECONDS,
        default_status=sensor_status(settings),
        description="Sync each pair the webhook inbox has news for: one run per pair per batch of deliveries.",
    )
    def inbox_sensor(context: dg.SensorEvaluationContext, ledger: LedgerResource) -> dg.SensorResult:
        store = ledger.get()
        after = int(context.cursor or 0)
        rows = store.inbox_after(after, limit=INBOX_BATCH)
        if not rows:
            return dg.SensorResult(skip_reason=f"no webhook deliveries after inbox id {after}")
        batches, orphans = inbox_batches([(r.id, r.pair, r.processed_run) for r in rows], pairs=pairs)
        requests = []
        for batch in batches:
            if batch.fresh:
                store.mark_inbox_processed(batch.ids, run=batch.run_key)
            span = f"{batch.ids[0]}-{batch.ids[-1]}"
            requests.append(
                dg.RunRequest(
                    run_key=batch.run_key,
                    partition_key=batch.pair,
                    tags={PAIR_TAG: batch.pair, INBOX_TAG: span, "finsync/events": str(len(batch.ids))},
                )
            )
        if orphans:
            context.log.warning(f"{len(orphans)} inbox row(s) for pairs no longer configured; not synced")
            store.mark_inbox_processed(orphans, run="no such pair")
        return dg.SensorResult(
            run_requests=requests,
            cursor=str(rows[-1].id),
            skip_reason=None if requests else f"inbox rows up to {rows[-1].id} were for no known pair",
        )

    return [inbox_sensor]
