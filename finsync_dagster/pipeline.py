"""Run a job for one pair in this process, through Dagster, so the run lands in the instance.

Used by ``finsync sync``, ``finsync push`` and ``finsync demo``. The instance is ``$DAGSTER_HOME`` when set, otherwise a
persistent SQLite instance under ``$FINSYNC_HOME/dagster``, so runs show up in ``dagster dev``'s history.
Each run is tagged with this process (:func:`finsync_dagster.dead_runs.process_tags`), so that if the
process is killed, the next command can close the run it left ``STARTED``.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from finsync_dagster.automation import (
    FULL_REFRESH_JOB,
    FULL_REFRESH_RUN_CONFIG,
    READ_SIDE_JOB,
    WRITE_BACK_JOB,
)
from finsync_dagster.dead_runs import process_tags
from finsync_dagster.definitions import build_definitions
from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.settings import Settings


@dataclass
class AssetOutcome:
    key: str
    metadata: dict[str, Any]


@dataclass
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class PipelineResult:
    pair: str
    run_id: str
    success: bool
    assets: list[AssetOutcome] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    failure: str | None = None


def run_read_side(
    settings: Settings,
    pair: str,
    *,
    instance: dg.DagsterInstance,
    full_refresh: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    job = FULL_REFRESH_JOB if full_refresh else READ_SIDE_JOB
    config = _run_config(FULL_REFRESH_RUN_CONFIG if full_refresh else {})
    return run_job(settings, pair, job, instance=instance, run_config=config, on_progress=on_progress)


def run_write_back(
    settings: Settings,
    pair: str,
    *,
    instance: dg.DagsterInstance,
    settle_seconds: float = 30.0,
    on_progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Plan the writes the latest reconciliation calls for, and push them (``finsync push``)."""
    options = {"resources": {"sync_options": {"config": {"push_settle_seconds": settle_seconds}}}}
    return run_job(settings, pair, WRITE_BACK_JOB, instance=instance, run_config=_run_config(options),
                   on_progress=on_progress)  # fmt: skip


def run_job(
    settings: Settings,
    pair: str,
    job_name: str,
    *,
    instance: dg.DagsterInstance,
    run_config: dict[str, Any],
    on_progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Run one of the code location's jobs for ``pair`` in this process, recorded in ``instance``."""
    settings.pair(pair)  # a clear error for an unknown pair
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(job_name)
    run_id = str(uuid.uuid4())
    done = threading.Event()
    watcher = None
    if on_progress is not None:
        watcher = threading.Thread(target=_watch, args=(instance, run_id, done, on_progress), daemon=True)
        watcher.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            partition_key=pair,
            run_id=run_id,
            tags={PAIR_TAG: pair, **process_tags()},
            raise_on_error=False,
            run_config=run_config,
        )
    finally:
        done.set()
        if watcher is not None:
            watcher.join(timeout=5)
    outcome = PipelineResult(pair=pair, run_id=run_id, success=result.success)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        outcome.assets.append(
            AssetOutcome(
                key=materialization.asset_key.to_user_string(),
                metadata={name: value.value for name, value in materialization.metadata.items()},
            )
        )
    for event in result.get_asset_check_evaluations():
        outcome.checks.append(
            CheckOutcome(
                asset=event.asset_key.to_user_string(),
                name=event.check_name,
                passed=event.passed,
                severity=event.severity.value,
                description=event.description or "",
                metadata={name: value.value for name, value in event.metadata.items()},
            )
        )
    if not result.success:
        outcome.failure = failure_summary([e for e in result.all_events if e.is_step_failure])
    return outcome


def failure_summary(failures: list[dg.DagsterEvent]) -> str:
    """One line per root cause: steps that failed for the same reason (an expired connection fails every
    step that uses it) are counted, not repeated."""
    steps_by_cause: dict[str, list[str]] = {}
    for event in failures:
        steps_by_cause.setdefault(_root_cause(event), []).append(event.step_key or "?")
    lines = [
        f"{steps[0]}: {cause}" if len(steps) == 1 else f"{len(steps)} steps failed: {cause}"
        for cause, steps in steps_by_cause.items()
    ]
    return "\n".join(lines) or "the run failed"


def _run_config(extra: dict[str, Any]) -> dict[str, Any]:
    # The CLI shows its own progress and summary; Dagster's console log would bury it. Run config given
    # here replaces the job's own, so the full refresh's switch goes in again.
    quiet: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    return {**quiet, **extra}


def _root_cause(event: dg.DagsterEvent) -> str:
    """The innermost error message of a step failure: the user's error, not Dagster's wrapper.

    A ``dg.Failure`` says what it means in its description; a finsync error is its message alone (as the
    CLI prints it), any other error keeps its class name.
    """
    data = event.step_failure_data
    if data is not None and data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description.strip()
    error = data.error if data is not None else None
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return "failed"
    message = error.message.strip()
    own = re.match(r"finsync_dagster(\.\w+)*\.\w+Error: ", message)
    return message[own.end() :] if own else message


def _watch(
    instance: dg.DagsterInstance, run_id: str, done: threading.Event, on_progress: Callable[[str], None]
) -> None:
    seen = 0
    while not done.wait(0.25):
        try:
            records = instance.all_logs(run_id)
        except Exception:  # the run may not exist yet
            continue
        for record in records[seen:]:
            event = record.dagster_event
            if event is not None and event.is_step_start:
                on_progress(event.step_key or "")
        seen = len(records)


def dagster_home_note() -> str:
    home = os.environ.get("DAGSTER_HOME")
    return f"runs are recorded in the Dagster instance at {Path(home)}" if home else ""
