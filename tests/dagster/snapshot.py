"""What the finsync code location declares, as plain data: the committed snapshot that
tests/dagster/test_definitions_snapshot.py compares against, so a renamed asset, a regrouped check or a
changed schedule is a visible diff in review.

Regenerate it after an intended change, and commit the diff with the change:

    python -m tests.dagster.snapshot
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("definitions.snapshot.json")


def repository_definitions() -> dg.Definitions:
    """The code location as the repository's finsync.yaml declares it (one pair, ``sandbox``)."""
    from finsync_dagster.definitions import build_definitions
    from finsync_dagster.settings import load_settings

    return build_definitions(load_settings(REPO / "finsync.yaml"))


def describe(definitions: dg.Definitions) -> dict[str, Any]:
    repository = definitions.get_repository_def()
    return {
        "assets": {
            spec.key.to_user_string(): {
                "group": spec.group_name,
                "kinds": sorted(spec.kinds),
                "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
                "partitions": _partitions(spec.partitions_def),
            }
            for spec in sorted(definitions.resolve_all_asset_specs(), key=lambda s: s.key)
        },
        "checks": sorted(
            f"{key.asset_key.to_user_string()}:{key.name}"
            for key in definitions.resolve_asset_graph().asset_check_keys
        ),
        "jobs": {
            job.name: {"partitions": _partitions(job.partitions_def)}
            for job in sorted(repository.get_all_jobs(), key=lambda j: j.name)
            if not job.name.startswith("__")  # Dagster's implicit asset job
        },
        "schedules": {
            schedule.name: {
                "job": schedule.job_name,
                "cron": schedule.cron_schedule,
                "timezone": schedule.execution_timezone,
                "default_status": schedule.default_status.value,
            }
            for schedule in sorted(repository.schedule_defs, key=lambda s: s.name)
        },
        "sensors": {
            sensor.name: {
                "jobs": sorted(target.job_name for target in sensor.targets),
                "default_status": sensor.default_status.value,
            }
            for sensor in sorted(repository.sensor_defs, key=lambda s: s.name)
        },
    }


def render(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=2, sort_keys=True) + "\n"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> list[str] | None:
    return None if partitions_def is None else list(partitions_def.get_partition_keys())


if __name__ == "__main__":
    SNAPSHOT.write_text(render(describe(repository_definitions())), encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(REPO)}")
