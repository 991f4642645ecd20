"""The jobs, one pair a run: the read side (incremental, full refresh), the write side (plan and push, push
alone), and the event sync that does both for what the webhooks and pollers saw change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from finsync_dagster.automation.pair_executor import pair_locked_executor

READ_SIDE_JOB = "read_side"
FULL_REFRESH_JOB = "full_refresh"
WRITE_BACK_JOB = "write_back"
PUSH_JOB = "push"
EVENT_SYNC_JOB = "event_sync"

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


def build_write_back_jobs(
    plan: dg.AssetSelection, push: dg.AssetSelection, *, home: Path
) -> tuple[dg.UnresolvedAssetJobDefinition, dg.UnresolvedAssetJobDefinition]:
    """Plan then push (after a reconciliation), and push alone (when the outbox has due actions)."""
    executor = pair_locked_executor(home)
    write_back = dg.define_asset_job(
        WRITE_BACK_JOB,
        selection=plan | push,
        executor_def=executor,
        description="Plan the writes the latest reconciliation calls for, then push them to both systems.",
    )
    push_job = dg.define_asset_job(
        PUSH_JOB,
        selection=push,
        description="Push the outbox's due writes to both systems (retries, in-doubt lookups, new plans).",
    )
    return write_back, push_job


def build_event_sync_job(
    read_side: dg.AssetSelection, plan: dg.AssetSelection, push: dg.AssetSelection, *, home: Path
) -> dg.UnresolvedAssetJobDefinition:
    """Read, reconcile, plan and push in one run: what the inbox and poll sensors launch for a pair.

    The read is the pair's incremental one (its cursors overlap, so a changed object is always in it);
    fetching only the announced objects by id would be cheaper per event, but staging replaces an
    entity's rows by window, not by id, so that stays for later.
    """
    return dg.define_asset_job(
        EVENT_SYNC_JOB,
        selection=read_side | plan | push,
        executor_def=pair_locked_executor(home),
        description="Sync a pair because something changed: incremental read, reconcile, plan and push.",
    )
