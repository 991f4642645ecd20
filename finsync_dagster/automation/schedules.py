"""The read side's schedules: incremental syncs every few minutes, a nightly full refresh, every pair."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dagster as dg

from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.settings import Settings


def build_schedules(
    settings: Settings, jobs: Sequence[dg.UnresolvedAssetJobDefinition]
) -> list[dg.ScheduleDefinition]:
    read_side, full_refresh = jobs
    status = (
        dg.DefaultScheduleStatus.RUNNING
        if settings.schedules.default_status == "running"
        else dg.DefaultScheduleStatus.STOPPED
    )
    pairs = settings.pair_names

    def per_pair(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        # One run per pair per tick; the key names the tick, so a later tick is never deduplicated away.
        tick = context.scheduled_execution_time.isoformat()
        for pair in pairs:
            yield dg.RunRequest(run_key=f"{pair}:{tick}", partition_key=pair, tags={PAIR_TAG: pair})

    return [
        dg.ScheduleDefinition(
            name="incremental_sync",
            job=read_side,
            cron_schedule=settings.schedules.incremental_cron,
            execution_timezone=settings.schedules.timezone,
            default_status=status,
            execution_fn=per_pair,
            description="Incremental sync of every pair.",
        ),
        dg.ScheduleDefinition(
            name="nightly_full_refresh",
            job=full_refresh,
            cron_schedule=settings.schedules.full_refresh_cron,
            execution_timezone=settings.schedules.timezone,
            default_status=status,
            execution_fn=per_pair,
            description="Full re-read of every pair, to catch deletions the incremental reads cannot see.",
        ),
    ]
