"""The write side's sensors: plan after each reconciliation, push whenever the outbox has due actions.

``plan_after_reconciliation`` is a run-status sensor: a successful read side (or full refresh) of a pair
launches ``write_back`` for it, keyed by the run it follows. ``outbox_sensor`` looks at each pair's outbox
and launches ``push`` when something is due (new plans at once; retries and lookups at most every few
minutes). Both default to stopped, like the schedules (``schedules.default_status``); ``finsync serve``
runs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dagster as dg

from finsync_dagster.automation.decisions import plans_after, push_run_key
from finsync_dagster.ledger import utcnow
from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.resources import LedgerResource
from finsync_dagster.settings import Settings

OUTBOX_SENSOR_SECONDS = 30


def build_sensors(
    settings: Settings,
    *,
    reconciling: Sequence[dg.UnresolvedAssetJobDefinition],
    write_back: dg.UnresolvedAssetJobDefinition,
    push: dg.UnresolvedAssetJobDefinition,
) -> list[dg.SensorDefinition]:
    status = (
        dg.DefaultSensorStatus.RUNNING
        if settings.schedules.default_status == "running"
        else dg.DefaultSensorStatus.STOPPED
    )
    writing = frozenset(
        pair.name
        for pair in settings.pairs
        if any(mode != "off" for mode in pair.write_back.rules.model_dump().values())
    )
    watched = frozenset(job.name for job in reconciling)
    pairs = settings.pair_names

    @dg.run_status_sensor(
        name="plan_after_reconciliation",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=list(reconciling),
        request_job=write_back,
        default_status=status,
        description="After a pair's reconciliation succeeds, plan and push the writes it calls for.",
    )
    def plan_after_reconciliation(
        context: dg.RunStatusSensorContext,
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        run = context.dagster_run
        pair = run.tags.get(PAIR_TAG) or run.tags.get("dagster/partition")
        if not plans_after(run.job_name, pair=pair, watched=watched, writes=writing):
            yield dg.SkipReason(f"run {run.run_id[:8]} of {run.job_name} calls for no write-back")
            return
        assert pair is not None
        yield dg.RunRequest(run_key=f"write_back:{run.run_id}", partition_key=pair, tags={PAIR_TAG: pair})

    @dg.sensor(
        name="outbox_sensor",
        job=push,
        minimum_interval_seconds=OUTBOX_SENSOR_SECONDS,
        default_status=status,
        description="Launch a push for each pair whose outbox has due actions (new, retries, in-doubt lookups).",
    )
    def outbox_sensor(context: dg.SensorEvaluationContext, ledger: LedgerResource) -> dg.SensorResult:
        store = ledger.get()
        requests = []
        now = utcnow()
        for pair in pairs:
            due, _upcoming, highest = store.due_summary(pair)
            key = push_run_key(pair, due=due, highest_id=highest, now=now)
            if key is not None:
                requests.append(dg.RunRequest(run_key=key, partition_key=pair, tags={PAIR_TAG: pair}))
        return dg.SensorResult(
            run_requests=requests, skip_reason=None if requests else "nothing due in any outbox"
        )

    return [plan_after_reconciliation, outbox_sensor]
