"""One sync per pair at a time, across processes (issue 13, item 4).

Two syncs of one pair used to both fail on DuckDB's single-writer lock. Now the second caller waits, within
a bound, or fails at once naming who holds the pair; a Dagster run takes the same lock, so `dagster dev`
and the CLI cannot collide; and a holder killed with `kill -9` leaves the pair free. Real processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.definitions import build_definitions
from finsync_dagster.pairlock import PairBusyError, PairHolder, hold_pair
from finsync_dagster.settings import load_settings
from tests.cli_processes import finsync, start_slow_sandbox

REPO = Path(__file__).resolve().parents[1]
PAIR = "sandbox"  # declared in the repository's finsync.yaml

# Holds the pair in its own process and says so; then sleeps for ever, or for argv[3] seconds.
_HOLDER = """
import sys, time
from pathlib import Path
from finsync_dagster.pairlock import hold_pair

with hold_pair(Path(sys.argv[1]), sys.argv[2], what="finsync sync", wait_seconds=0):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def start_holder(home: Path, seconds: float = 3600) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(home), PAIR, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


@pytest.fixture
def holder(finsync_home: Path) -> Iterator[subprocess.Popen[str]]:
    process = start_holder(finsync_home)
    yield process
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=10)


def kill_9(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_a_second_caller_is_told_who_holds_the_pair(
    finsync_home: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(PairBusyError) as busy, hold_pair(finsync_home, PAIR, what="test", wait_seconds=0):
        pass
    assert busy.value.holder is not None
    assert (busy.value.holder.pid, busy.value.holder.host) == (holder.pid, socket.gethostname())
    message = str(busy.value)
    assert f"finsync sync (pid {holder.pid} on {socket.gethostname()}, since 20" in message
    assert "--wait" in message


def test_a_holder_killed_with_kill_9_leaves_the_pair_free(
    finsync_home: Path, holder: subprocess.Popen[str]
) -> None:
    kill_9(holder)
    began = time.monotonic()
    with hold_pair(finsync_home, PAIR, what="test", wait_seconds=0):
        assert time.monotonic() - began < 1


def test_a_second_caller_waits_for_the_first_to_finish(finsync_home: Path) -> None:
    first = start_holder(finsync_home, seconds=1.5)
    told: list[PairHolder | None] = []
    began = time.monotonic()
    with hold_pair(finsync_home, PAIR, what="test", wait_seconds=30, on_wait=told.append):
        waited = time.monotonic() - began
        assert first.wait(timeout=10) == 0  # the first finished, then we got the pair
    assert 0.5 < waited < 10
    assert [h.pid if h else None for h in told] == [first.pid]


def test_the_wait_is_bounded(finsync_home: Path, holder: subprocess.Popen[str]) -> None:
    began = time.monotonic()
    with pytest.raises(PairBusyError), hold_pair(finsync_home, PAIR, what="test", wait_seconds=1):
        pass
    assert 1 <= time.monotonic() - began < 3


def test_finsync_sync_says_who_holds_the_pair(holder: subprocess.Popen[str]) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("DAGSTER_HOME", None)
    config = str(REPO / "finsync.yaml")
    sync = subprocess.run(
        [
            sys.executable,
            "-m",
            "finsync_dagster.cli",
            "--config",
            config,
            "sync",
            "--pair",
            PAIR,
            "--wait",
            "0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert sync.returncode == 1
    assert sync.stderr.splitlines()[0].startswith(
        f"error: pair '{PAIR}' is held by finsync sync (pid {holder.pid} on {socket.gethostname()}"
    )
    assert "Traceback" not in sync.stderr and "duckdb" not in sync.stderr.lower()


def _job_with_the_read_side_executor() -> dg.JobDefinition:
    """A one-step job run by the read side's own executor (the one `dagster dev` runs use)."""
    settings = load_settings(REPO / "finsync.yaml")
    executor = build_definitions(settings).resolve_job_def("read_side").executor_def

    @dg.op
    def step() -> None:
        pass

    @dg.job(executor_def=executor)
    def one_step() -> None:
        step()

    return one_step


def test_a_dagster_run_waits_for_a_cli_sync_of_its_pair(
    finsync_home: Path, holder: subprocess.Popen[str]
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    waiting: list[str] = []

    def free_the_pair_once_the_run_waits() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not waiting:
            for run in instance.get_runs():
                events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
                waiting.extend(e.message for e in events if "is being synced by" in e.message)
            time.sleep(0.1)
        kill_9(holder)

    killer = threading.Thread(target=free_the_pair_once_the_run_waits)
    killer.start()
    with dg.execute_job(
        dg.reconstructable(_job_with_the_read_side_executor), instance, tags={"finsync/pair": PAIR}
    ) as result:
        killer.join(timeout=90)
        steps = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_START)
        assert result.success
    assert waiting and f"finsync sync (pid {holder.pid} on" in waiting[0]
    assert len(steps) == 1  # the step ran once the CLI's process let go


@pytest.mark.slow
def test_two_syncs_of_one_pair_at_once_both_succeed_one_after_the_other(
    tmp_path: Path, finsync_home: Path
) -> None:
    running = start_slow_sandbox(tmp_path / "sandbox", latency_ms=5)
    try:
        sync = ("sync", "--pair", "twice", "--sandbox", str(running.dir), "--wait", "240")
        first, second = (finsync(*sync, cwd=tmp_path) for _ in range(2))
        outputs = [process.communicate(timeout=300)[0] for process in (first, second)]
    finally:
        running.stop()
        running.state("freshbooks").webhooks.close()
    for process, output in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
        assert "Could not set lock" not in output, output[-3000:]  # DuckDB's single-writer error
    waited = [output for output in outputs if "is being synced by finsync sync (pid" in output]
    assert len(waited) == 1, outputs
