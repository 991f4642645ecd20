"""The event side's sensors: sync a pair when its webhooks say something changed, or a poll finds it did.

``inbox_sensor`` reads the ledger's inbox past its cursor (the last inbox id it read), at most
:data:`INBOX_BATCH` rows a tick, and asks for one ``event_sync`` run per pair in the batch, keyed by the
batch's first and last ids. It marks the rows processed as it asks (the inbox's contract: a prompt for the
same object arriving after that is stored again and makes a new run). If the tick fails after marking, its
cursor is not saved: the next tick reads the same rows, finds them taken by an inbox run key, and asks for
that run again under the same key, which Dagster skips if it was launched and launches if it was not. A
pair with two event syncs in flight (one running, one waiting) is held back: its rows stay waiting, the
cursor stops before them, and the next tick takes them with whatever arrived meanwhile, so a steady stream
of deliveries makes a few large batches rather than a queue of runs with nothing left to do.

``infor_poll_sensor`` and ``freshbooks_poll_sensor`` ask each pair's systems, every
``schedules.poll_interval_seconds``, for the records changed since their cursor (:mod:`.poll_cursor`,
:mod:`.probes`) and ask for an ``event_sync`` of each pair with news, keyed by what changed. M3 sends no
webhooks, so its poller is how an M3 change reaches FreshBooks; FreshBooks' is the safety net for
callbacks lost while the receiver was down. A change seen by both a webhook and a poll costs a second
run, never a second write: the plan is keyed by the record (the outbox's action keys).

Default stopped, like the schedules (``schedules.default_status``); ``finsync serve`` runs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import dagster as dg

from finsync_dagster.automation.decisions import (
    INBOX_BATCH,
    MAX_EVENT_RUNS_IN_FLIGHT,
    held_cursor,
    inbox_batches,
)
from finsync_dagster.automation.jobs import EVENT_SYNC_JOB
from finsync_dagster.automation.poll_cursor import (
    Change,
    PollCursor,
    advance,
    cursors_from_json,
    cursors_to_json,
)
from finsync_dagster.automation.probes import (
    FRESHBOOKS_ENTITIES,
    INFOR_ENTITIES,
    freshbooks_changes,
    freshbooks_floor,
    infor_changes,
    infor_floor,
)
from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.resources import LedgerResource
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import Settings

INBOX_SENSOR_SECONDS = 5
INBOX_TAG = "finsync/inbox"
POLL_TAG = "finsync/poll"


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
        held = {
            b.pair
            for b in batches
            if b.fresh and _in_flight(context.instance, b.pair) >= MAX_EVENT_RUNS_IN_FLIGHT
        }
        requests = []
        for batch in batches:
            if batch.fresh and batch.pair in held:
                continue
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
        cursor = held_cursor(batches, held, rows[-1].id)
        waiting = f"; waiting for a run of {', '.join(sorted(held))} to finish" if held else ""
        return dg.SensorResult(
            run_requests=requests,
            cursor=str(cursor) if cursor > after else context.cursor,
            skip_reason=None
            if requests
            else f"no event sync to launch for inbox rows up to {rows[-1].id}{waiting}",
        )

    return [inbox_sensor]


_IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _in_flight(instance: dg.DagsterInstance, pair: str) -> int:
    filters = dg.RunsFilter(job_name=EVENT_SYNC_JOB, statuses=_IN_FLIGHT, tags={PAIR_TAG: pair})
    return len(instance.get_run_ids(filters=filters, limit=MAX_EVENT_RUNS_IN_FLIGHT))


def build_poll_sensors(
    settings: Settings, *, event_sync: dg.UnresolvedAssetJobDefinition
) -> list[dg.SensorDefinition]:
    """One poller per system: the changes webhooks missed (FreshBooks) or never announce (M3)."""
    interval = settings.schedules.poll_interval_seconds
    infor_pairs = [pair.name for pair in settings.pairs if pair.infor is not None]
    freshbooks_pairs = [pair.name for pair in settings.pairs if pair.freshbooks is not None]
    polls = (
        ("infor", infor_pairs, INFOR_ENTITIES, infor_changes, infor_floor),
        ("freshbooks", freshbooks_pairs, FRESHBOOKS_ENTITIES, freshbooks_changes, freshbooks_floor),
    )
    return [
        _poll_sensor(
            system, pairs, tuple(entities), changes, floor, event_sync, interval, sensor_status(settings)
        )
        for system, pairs, entities, changes, floor in polls
    ]


def _poll_sensor(
    system: str,
    pairs: list[str],
    entities: tuple[str, ...],
    changes: Callable[[Any, str, str | None], Iterable[Change]],
    floor: Callable[[str], str],
    event_sync: dg.UnresolvedAssetJobDefinition,
    interval: int,
    status: dg.DefaultSensorStatus,
) -> dg.SensorDefinition:
    label = "M3" if system == "infor" else "FreshBooks"

    @dg.sensor(
        name=f"{system}_poll_sensor",
        job=event_sync,
        minimum_interval_seconds=interval,
        default_status=status,
        description=f"Poll {label} for records changed since the last poll (with overlap); sync the pairs that changed.",
    )
    def poll(context: dg.SensorEvaluationContext, clients: PairClients) -> dg.SensorResult:
        cursors = cursors_from_json(context.cursor)
        requests = []
        for pair in pairs:
            found: list[str] = []
            try:
                with getattr(clients, system)(pair) as client:
                    for entity in entities:
                        name = f"{pair}/{entity}"
                        before = cursors.get(name, PollCursor())
                        lowest = floor(before.watermark) if before.watermark else None
                        new, cursors[name] = advance(before, changes(client, entity, lowest), floor=floor)
                        found += [f"{entity}:{key}@{stamp}" for key, stamp in new]
            except Exception as exc:  # one pair's outage must not stop the others' polls
                context.log.warning(f"polling {label} for pair {pair!r} failed: {type(exc).__name__}: {exc}")
                continue
            if found:
                digest = hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()[:16]
                requests.append(
                    dg.RunRequest(
                        run_key=f"poll:{system}:{pair}:{digest}",
                        partition_key=pair,
                        tags={PAIR_TAG: pair, POLL_TAG: system, "finsync/events": str(len(found))},
                    )
                )
        return dg.SensorResult(
            run_requests=requests,
            cursor=cursors_to_json(cursors),
            skip_reason=None if requests else f"nothing changed in {label} since the last poll",
        )

    return poll
