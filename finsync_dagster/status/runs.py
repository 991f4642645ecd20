"""The latest Dagster runs of finsync's jobs for each pair, read through Dagster's public API.

A run belongs to a pair by its ``finsync/pair`` tag (CLI runs) or its ``dagster/partition`` tag (runs the
UI, schedules and sensors launch for a partition: pairs are partitions).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.status.figures import RunInfo

_PARTITION_TAG = "dagster/partition"


def latest_runs(
    instance: dg.DagsterInstance, pairs: Sequence[str], *, per_pair: int = 20
) -> dict[str, list[RunInfo]]:
    """Up to ``per_pair`` newest runs of each pair, newest first."""
    found: dict[str, list[RunInfo]] = {}
    for pair in pairs:
        seen: dict[str, RunInfo] = {}
        for tag in (PAIR_TAG, _PARTITION_TAG):
            for record in instance.get_run_records(filters=dg.RunsFilter(tags={tag: pair}), limit=per_pair):
                run = record.dagster_run
                seen[run.run_id] = RunInfo(
                    run_id=run.run_id,
                    job=run.job_name,
                    pair=pair,
                    status=run.status.value,
                    started_at=_utc(record.start_time) or record.create_timestamp.astimezone(UTC),
                    ended_at=_utc(record.end_time),
                )
        found[pair] = sorted(
            seen.values(), key=lambda r: r.started_at or datetime.min.replace(tzinfo=UTC), reverse=True
        )[:per_pair]
    return found


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
