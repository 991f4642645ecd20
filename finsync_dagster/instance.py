"""The Dagster instance finsync's commands record their runs in, and closing the runs killed processes left.

Kept apart from ``pipeline`` (which builds the definitions) so that a command that only reads the
instance, ``finsync status``, does not import the whole code location.
"""

from __future__ import annotations

import os

import dagster as dg

from finsync_dagster.dead_runs import ClosedRun, close_dead_runs
from finsync_dagster.pairlock import hold_lock_file
from finsync_dagster.partitions import PAIR_TAG
from finsync_dagster.settings import Settings

# The local instance's config: SQLite storage in its directory, no telemetry banner, and run monitoring,
# so a `dagster dev` pointed at it fails runs that never start. The first line is what finsync wrote
# before run monitoring; such a file is brought up to date.
_OLD_LOCAL_INSTANCE_YAML = "telemetry:\n  enabled: false\n"
LOCAL_INSTANCE_YAML = _OLD_LOCAL_INSTANCE_YAML + (
    "run_monitoring:\n  enabled: true\n  start_timeout_seconds: 180\n"
)


def instance_for(settings: Settings) -> dg.DagsterInstance:
    """``$DAGSTER_HOME``'s instance, or a persistent local one under ``$FINSYNC_HOME/dagster``."""
    if not os.environ.get("DAGSTER_HOME"):
        home = settings.home / "dagster"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists() or config.read_text(encoding="utf-8") == _OLD_LOCAL_INSTANCE_YAML:
            config.write_text(LOCAL_INSTANCE_YAML, encoding="utf-8")
        os.environ["DAGSTER_HOME"] = str(home)
        # Dagster creates its SQLite storage on first open, and two processes creating it at once
        # collide: the first finsync command creates it while the others wait.
        with hold_lock_file(home / "create.lock", "the Dagster instance", what="finsync", wait_seconds=120):
            return dg.DagsterInstance.get()
    return dg.DagsterInstance.get()


def close_own_dead_runs(instance: dg.DagsterInstance) -> list[ClosedRun]:
    """Fail the runs an earlier finsync process on this host left unfinished when it died."""
    return close_dead_runs(instance, pair_tag=PAIR_TAG)
