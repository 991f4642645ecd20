"""The code location loads, and every job, schedule and sensor in it resolves."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from finsync_dagster.definitions import build_definitions, defs
from finsync_dagster.settings import load_settings
from finsync_dagster.staging.freshbooks_tables import FRESHBOOKS_TABLES
from finsync_dagster.staging.infor_tables import INFOR_TABLES

STAGING_TABLES = [
    *(spec.name for spec, _ in FRESHBOOKS_TABLES.values()),
    *INFOR_TABLES,
]

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
    keys = {spec.key.to_user_string() for spec in definitions.resolve_all_asset_specs()}
    assert "ledger_schema" in keys
    assert {f"staging/{table}" for table in STAGING_TABLES} <= keys
    assert {f"core/{entity}" for entity in ("customers", "invoices", "payments", "expenses")} <= keys
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"read_side", "full_refresh"} <= jobs
    assert {s.name for s in repository.schedule_defs} >= {"incremental_sync", "nightly_full_refresh"}
    full_refresh = definitions.resolve_job_def("full_refresh")
    assert full_refresh.partitions_def is not None
    assert full_refresh.partitions_def.get_partition_keys() == ["sandbox"]


def test_schedules_follow_the_config(finsync_home: Path, tmp_path: Path) -> None:
    config = tmp_path / "finsync.yaml"
    config.write_text(
        "pairs:\n  - {name: a, sandbox_dir: x}\n  - {name: b, sandbox_dir: y}\n"
        "schedules: {timezone: America/Toronto, incremental_cron: '*/5 * * * *', default_status: running}\n"
    )
    definitions = build_definitions(load_settings(config))
    schedule = definitions.resolve_schedule_def("incremental_sync")
    assert schedule.cron_schedule == "*/5 * * * *"
    assert schedule.execution_timezone == "America/Toronto"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 24, 12, 5, tzinfo=UTC),
        repository_def=definitions.get_repository_def(),
    )
    requests = schedule.evaluate_tick(context).run_requests
    assert [request.partition_key for request in requests] == ["a", "b"]
    assert len({request.run_key for request in requests}) == 2


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


def test_a_ledger_password_never_reaches_dagster_config(finsync_home: Path, monkeypatch) -> None:
    secret_url = "postgresql+psycopg2://finsync:s3cret-pw@db.example:5432/finsync"
    monkeypatch.setenv("FINSYNC_LEDGER_URL", secret_url)
    definitions = build_definitions(load_settings(REPO / "finsync.yaml"))
    resources = definitions.resources
    assert "s3cret-pw" not in resources["settings"].settings_json
    # Both resources take the URL from the environment at run time, as the UI shows an EnvVar.
    assert isinstance(resources["settings"].ledger_url, dg.EnvVar)
    assert isinstance(resources["ledger"].url, dg.EnvVar)
    assert "s3cret-pw" not in repr(resources["ledger"]) + repr(resources["settings"])
