"""When the read side runs: jobs, the schedules that start them, and (with the write side) sensors.

One module per kind: ``jobs.py`` (what a run materialises, and its run config), ``schedules.py`` (when).
Sensors go in ``sensors.py``, and the pure functions they call to decide what is new since a cursor go
beside them in their own module, so the decision is unit-tested without Dagster (as project-dagster-
university keeps ``check_for_new_files`` apart from its sensor).
"""

from finsync_dagster.automation.jobs import (
    FULL_REFRESH_JOB,
    FULL_REFRESH_RUN_CONFIG,
    PUSH_JOB,
    READ_SIDE_JOB,
    WRITE_BACK_JOB,
    build_jobs,
    build_write_back_jobs,
)
from finsync_dagster.automation.schedules import build_schedules

__all__ = [
    "FULL_REFRESH_JOB",
    "FULL_REFRESH_RUN_CONFIG",
    "PUSH_JOB",
    "READ_SIDE_JOB",
    "WRITE_BACK_JOB",
    "build_jobs",
    "build_schedules",
    "build_write_back_jobs",
]
