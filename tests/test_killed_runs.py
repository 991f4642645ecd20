"""A `finsync sync` killed with `kill -9` mid-run leaves a run STARTED in the instance, and nothing in the
dead process can close it. The next finsync command must: the dead run becomes FAILURE with an event that
says why, and the pair's next sync starts at once (issue 13, item 3). Real processes, real signals.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.instance import LOCAL_INSTANCE_YAML, close_own_dead_runs, instance_for
from finsync_dagster.sandbox.runner import RunningSandboxes
from finsync_dagster.settings import load_settings
from tests import cli_processes
from tests.cli_processes import REPO, finsync, start_slow_sandbox

PAIR = "killed"


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[RunningSandboxes]:
    running = start_slow_sandbox(tmp_path / "sandbox")
    yield running
    running.stop()
    running.state("freshbooks").webhooks.close()


@pytest.fixture
def cli_env(finsync_home: Path) -> dict[str, str]:
    return cli_processes.cli_env()


@pytest.fixture
def cli_instance(finsync_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """The instance the CLI uses, created before any CLI process opens it (two creating it collide)."""
    monkeypatch.setenv("DAGSTER_HOME", "")  # so that teardown restores the developer's own value
    monkeypatch.delenv("DAGSTER_HOME")
    with instance_for(load_settings(REPO / "finsync.yaml")) as instance:
        yield instance


def wait_for_steps(instance: dg.DagsterInstance, steps: int, timeout: float) -> dg.DagsterRun:
    """The one STARTED run once `steps` of its steps have begun (its process is then mid-run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            if len(instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)) >= steps:
                return run
        time.sleep(0.2)
    raise AssertionError(f"no run got to {steps} steps in {timeout:.0f} s")


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    (failure,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.dagster_event is not None
    return failure.dagster_event.message or ""


# A job that kills its own process with SIGKILL in its second step, as `kill -9` would mid-run.
_SELF_KILLING_RUN = """
import os, signal, sys
import dagster as dg
from finsync_dagster.dead_runs import process_tags

@dg.op
def first() -> int:
    return 1

@dg.op
def second(value: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)

@dg.job
def doomed() -> None:
    second(first())

doomed.execute_in_process(
    instance=dg.DagsterInstance.get(), tags={"finsync/pair": "a", **process_tags()},
)
"""


def test_finsync_status_closes_the_run_of_a_killed_process(
    tmp_path: Path, finsync_home: Path, cli_env: dict[str, str], cli_instance: dg.DagsterInstance
) -> None:
    env = {**cli_env, "DAGSTER_HOME": str(finsync_home / "dagster")}
    doomed = subprocess.run([sys.executable, "-c", _SELF_KILLING_RUN], env=env, timeout=60, check=False)
    assert doomed.returncode == -signal.SIGKILL
    (left,) = cli_instance.get_runs()
    assert left.status == dg.DagsterRunStatus.STARTED

    status = finsync("status", env=cli_env, cwd=tmp_path)
    output = status.communicate(timeout=60)[0]

    assert status.returncode == 0, output
    assert f"closed run {left.run_id[:8]} of pair a: " in output
    assert status_of(cli_instance, left.run_id) == dg.DagsterRunStatus.FAILURE
    assert "the finsync process that ran it (pid " in failure_message(cli_instance, left.run_id)
    assert close_own_dead_runs(cli_instance) == []  # closed once


def test_the_cli_instance_has_run_monitoring_on(cli_instance: dg.DagsterInstance, finsync_home: Path) -> None:
    assert cli_instance.run_monitoring_enabled
    assert not cli_instance.telemetry_enabled


def test_an_instance_config_from_an_earlier_version_gets_run_monitoring(
    finsync_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = finsync_home / "dagster" / "dagster.yaml"
    config.parent.mkdir()
    config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")  # what earlier versions wrote
    monkeypatch.setenv("DAGSTER_HOME", "")
    monkeypatch.delenv("DAGSTER_HOME")
    with instance_for(load_settings(REPO / "finsync.yaml")) as instance:
        assert instance.run_monitoring_enabled
    assert config.read_text(encoding="utf-8") == LOCAL_INSTANCE_YAML


@pytest.mark.slow
def test_the_next_sync_closes_the_run_a_killed_sync_left_started(
    tmp_path: Path, cli_env: dict[str, str], cli_instance: dg.DagsterInstance, slow_sandbox: RunningSandboxes
) -> None:
    sync = ("sync", "--pair", PAIR, "--sandbox", str(slow_sandbox.dir), "--wait", "0")
    victim = finsync(*sync, env=cli_env, cwd=tmp_path)
    try:
        dead_run = wait_for_steps(cli_instance, steps=2, timeout=120)
        # While its process lives, the run is not anyone's to close.
        assert close_own_dead_runs(cli_instance) == []
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert status_of(cli_instance, dead_run.run_id) == dg.DagsterRunStatus.STARTED

    asked = time.time()
    rerun = finsync(*sync, env=cli_env, cwd=tmp_path)
    output = rerun.communicate(timeout=300)[0]

    # --wait 0: had the dead process left the pair locked, this sync would have failed at once.
    assert rerun.returncode == 0, output[-3000:]
    assert status_of(cli_instance, dead_run.run_id) == dg.DagsterRunStatus.FAILURE
    assert f"the finsync process that ran it (pid {victim.pid} on" in failure_message(
        cli_instance, dead_run.run_id
    )
    assert f"closed run {dead_run.run_id[:8]} of pair {PAIR}" in output
    (new_run,) = cli_instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
    assert new_run.start_time is not None and new_run.start_time - asked < 60


def status_of(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None, f"run {run_id} is not in the instance"
    return run.status
