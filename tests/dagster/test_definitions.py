"""The code location loads, and every job, schedule and sensor in it resolves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from finsync_dagster.definitions import build_definitions, defs
from finsync_dagster.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def test_definitions_load_and_everything_resolves(finsync_home: Path) -> None:
    definitions = build_definitions(load_settings(REPO / "finsync.yaml"))
    repository = definitions.get_repository_def()
    for job in repository.get_all_jobs():
        assert job.name
    for schedule in repository.schedule_defs:
        assert repository.get_job(schedule.job_name)
    for sensor in repository.sensor_defs:
        for target in sensor.targets:
            assert repository.get_job(target.job_name)
    assert dg.AssetKey("ledger_schema") in {spec.key for spec in definitions.resolve_all_asset_specs()}


def test_the_decorated_definitions_are_what_dagster_loads(finsync_home: Path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    assert isinstance(defs, dg.Definitions) or callable(defs)


def test_dagster_validates_the_workspace(finsync_home: Path, tmp_path: Path) -> None:
    # With DAGSTER_HOME unset, Dagster would read the repository's production dagster.yaml (PostgreSQL);
    # an empty DAGSTER_HOME is the embedded default the README describes.
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stderr + result.stdout
