"""When things run: jobs, the schedules that start the read side, and the write side's sensors.

One module per kind: ``jobs.py`` (what a run materialises, and its run config), ``schedules.py`` (when),
``sensors.py`` (in response to what), and ``decisions.py``, the pure functions sensors call to decide,
unit-tested without Dagster (as project-dagster-university keeps ``check_for_new_files`` apart from its
sensor).
"""

from finsync_dagster.automation.jobs import (
    EVENT_SYNC_JOB,
    FULL_REFRESH_JOB,
    FULL_REFRESH_RUN_CONFIG,
    PUSH_JOB,
    READ_SIDE_JOB,
    WRITE_BACK_JOB,
    build_event_sync_job,
    build_jobs,
    build_write_back_jobs,
)
from finsync_dagster.automation.schedules import build_schedules
from finsync_dagster.automation.sensors import build_sensors

__all__ = [
    "EVENT_SYNC_JOB",
    "FULL_REFRESH_JOB",
    "FULL_REFRESH_RUN_CONFIG",
    "PUSH_JOB",
    "READ_SIDE_JOB",
    "WRITE_BACK_JOB",
    "build_event_sync_job",
    "build_jobs",
    "build_schedules",
    "build_sensors",
    "build_write_back_jobs",
]
