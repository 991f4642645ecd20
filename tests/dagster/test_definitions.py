"""The code location as Dagster and a newcomer meet it: it loads from the repository root with no
environment set, every job a schedule names resolves, and schedules follow finsync.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.assets.checks import staging_specs
from finsync_dagster.automation import FULL_REFRESH_JOB, READ_SIDE_JOB
from finsync_dagster.definitions import build_definitions
from finsync_dagster.settings import load_settings
from tests.dagster.snapshot import SNAPSHOT

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def newcomer_env(finsync_home: Path) -> dict[str, str]:
    """The shell of someone who just cloned the repository: no Dagster or PostgreSQL variables."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DAGSTER_", "FINSYNC_"))}
    env["FINSYNC_HOME"] = str(finsync_home)  # keeps the test's state out of the repository
    return env


def test_every_staging_table_and_core_entity_is_an_asset(finsync_home: Path) -> None:
    definitions = build_definitions(load_settings(REPO / "finsync.yaml"))
    keys = {spec.key.to_user_string() for spec in definitions.resolve_all_asset_specs()}
    assert "ledger_schema" in keys
    assert {f"staging/{spec.name}" for spec in staging_specs()} <= keys
    assert {f"core/{entity}" for entity in ("customers", "invoices", "payments", "expenses")} <= keys


def test_the_schedules_start_the_two_jobs_which_run_per_pair(finsync_home: Path) -> None:
    definitions = build_definitions(load_settings(REPO / "finsync.yaml"))
    targets = {schedule.job_name for schedule in definitions.get_repository_def().schedule_defs}
    assert targets == {READ_SIDE_JOB, FULL_REFRESH_JOB}
    for name in targets:
        job = definitions.resolve_job_def(name)
        assert job.partitions_def is not None
        assert job.partitions_def.get_partition_keys() == ["sandbox"]
    # A full refresh is the read side with SyncOptions.full_refresh switched on, and only that.
    full_refresh = definitions.resolve_job_def(FULL_REFRESH_JOB).get_run_config_for_partition_key("sandbox")
    incremental = definitions.resolve_job_def(READ_SIDE_JOB).get_run_config_for_partition_key("sandbox")
    assert full_refresh == {"resources": {"sync_options": {"config": {"full_refresh": True}}}}
    assert "resources" not in incremental


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


@pytest.mark.parametrize(
    ("command", "success"),
    # Slow (a fresh Dagster process each; dg list defs below stays in the default run). .ci/run also runs
    # both commands itself.
    [
        pytest.param(
            ["dagster", "definitions", "validate", "-w", "workspace.yaml"],
            "All code locations passed validation",
            marks=pytest.mark.slow,
            id="dagster-definitions-validate",
        ),
        pytest.param(
            ["dg", "check", "defs"],
            "All definitions loaded successfully",
            marks=pytest.mark.slow,
            id="dg-check-defs",
        ),
    ],
)
def test_the_code_location_validates_from_the_root_with_no_environment(
    finsync_home: Path, command: list[str], success: str
) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env=newcomer_env(finsync_home),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert success in output
    assert "Traceback" not in output


@pytest.mark.slow  # a `dg` subprocess, as the other command-line checks
def test_dg_lists_the_definitions_of_the_snapshot(finsync_home: Path) -> None:
    # What Dagster itself loads from pyproject's [tool.dg] is the snapshot's code location.
    result = subprocess.run(
        [str(BIN / "dg"), "list", "defs", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env=newcomer_env(finsync_home),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    listed = json.loads(result.stdout)
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert {asset["asset_key"] for asset in listed["assets"]} == set(snapshot["assets"])
    assert {schedule["name"] for schedule in listed["schedules"]} == set(snapshot["schedules"])


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
