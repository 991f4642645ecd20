"""The read side's jobs: an incremental sync and a full refresh, over the same assets, one pair a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from finsync_dagster.automation.pair_executor import pair_locked_executor

READ_SIDE_JOB = "read_side"
FULL_REFRESH_JOB = "full_refresh"

# The full refresh is the read side with this one switch (SyncOptions.full_refresh). Stated once: the job
# carries it, and `finsync sync --full-refresh` passes it again because a run config given to a run
# replaces the job's own.
FULL_REFRESH_RUN_CONFIG: dict[str, Any] = {"resources": {"sync_options": {"config": {"full_refresh": True}}}}


def build_jobs(
    selection: dg.AssetSelection, *, home: Path
) -> tuple[dg.UnresolvedAssetJobDefinition, dg.UnresolvedAssetJobDefinition]:
    # Partitioned by pair, as the selected assets are. In-process: every step of a run writes the pair's
    # one DuckDB file, which takes a single writer; the executor also holds the pair's lock under `home`
    # for the run, so a CLI sync of the pair in another process waits its turn.
    executor = pair_locked_executor(home)
    read_side = dg.define_asset_job(
        READ_SIDE_JOB,
        selection=selection,
        executor_def=executor,
        description="Extract, validate, map, reconcile and report, incrementally, for one pair.",
    )
    full_refresh = dg.define_asset_job(
        FULL_REFRESH_JOB,
        selection=selection,
        executor_def=executor,
        config=FULL_REFRESH_RUN_CONFIG,
        description="Re-read everything from both systems; catches records deleted in Infor.",
    )
    return read_side, full_refresh
