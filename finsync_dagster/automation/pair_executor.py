"""The read side's executor: Dagster's in-process executor, holding the run's pair lock while it runs.

A run launched by ``dagster dev`` or the daemon takes the pair's lock (:mod:`finsync_dagster.pairlock`)
before its first step and lets go after its last, so it cannot collide with a ``finsync sync`` of the same
pair in another process. The run queue already keeps two Dagster runs of one pair apart; this covers the
CLI. ``finsync sync`` itself holds the lock around ``execute_in_process``, which brings its own executor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from finsync_dagster.pairlock import PairHolder, hold_pair
from finsync_dagster.partitions import PAIR_TAG

__all__ = ["RUN_LOCK_WAIT_SECONDS", "pair_locked_executor"]

# How long a Dagster run waits for a CLI sync of its pair to finish before it fails, naming the holder.
RUN_LOCK_WAIT_SECONDS = 900.0

_PARTITION_TAG = "dagster/partition"


def pair_locked_executor(home: Path, wait_seconds: float = RUN_LOCK_WAIT_SECONDS) -> dg.ExecutorDefinition:
    # The in-process executor's own schema object, reused as is (its type is not the decorator's).
    @dg.executor(name="in_process", config_schema=dg.in_process_executor.config_schema)  # type: ignore[call-overload]
    def in_process_holding_the_pair(init_context: dg.InitExecutorContext) -> dg.Executor:
        inner = dg.in_process_executor.executor_creation_fn(init_context)  # type: ignore[misc]
        return _PairLockedExecutor(inner, home, wait_seconds)

    return in_process_holding_the_pair


class _PairLockedExecutor(dg.Executor):
    def __init__(self, inner: dg.Executor, home: Path, wait_seconds: float) -> None:
        self._inner = inner
        self._home = home
        self._wait_seconds = wait_seconds

    @property
    def retries(self) -> Any:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self._inner.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[dg.DagsterEvent]:
        run = plan_context.dagster_run
        pair = run.tags.get(PAIR_TAG) or run.tags.get(_PARTITION_TAG)
        if pair is None:  # not a per-pair run (an unpartitioned asset): nothing to keep apart
            yield from self._inner.execute(plan_context, execution_plan)
            return

        def tell(holder: PairHolder | None) -> None:
            who = holder.describe() if holder else "another process"
            plan_context.instance.report_engine_event(
                f"pair {pair!r} is being synced by {who}; waiting up to {self._wait_seconds:.0f} s", run
            )

        what = f"Dagster run {run.run_id}"
        with hold_pair(self._home, pair, what=what, wait_seconds=self._wait_seconds, on_wait=tell):
            yield from self._inner.execute(plan_context, execution_plan)
