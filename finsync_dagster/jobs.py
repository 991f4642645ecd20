"""Jobs and schedules of the read side: incremental syncs every few minutes, a nightly full refresh."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dagster as dg

from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.settings import Settings

READ_SIDE_JOB = "read_side"
FULL_REFRESH_JOB = "full_refresh"


def build_jobs(
    selection: dg.AssetSelection,
) -> tuple[dg.UnresolvedAssetJobDefinition, dg.UnresolvedAssetJobDefinition]:
    # Partitioned by pair, as the selected assets are. In-process: every step of a run writes the pair's
    # one DuckDB file, which takes a single writer.
    read_side = dg.define_asset_job(
        READ_SIDE_JOB,
        selection=selection,
        executor_def=dg.in_process_executor,
        description="Extract, validate, map, reconcile and report, incrementally, for one pair.",
    )
    full_refresh = dg.define_asset_job(
        FULL_REFRESH_JOB,
        selection=selection,
        executor_def=dg.in_process_executor,
        config={"resources": {"sync_options": {"config": {"full_refresh": True}}}},
        description="Re-read everything from both systems; catches records deleted in Infor.",
    )
    return read_side, full_refresh


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
