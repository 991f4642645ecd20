"""Helpers of the tests that run `finsync` as real processes against sandboxes in the test process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from finsync_dagster.sandbox.faults import FaultPlan
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, start

REPO = Path(__file__).resolve().parents[1]


def finsync(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`finsync --config finsync.yaml ARGS...` in its own process, stdout and stderr together."""
    return subprocess.Popen(
        [sys.executable, "-m", "finsync_dagster.cli", "--config", str(REPO / "finsync.yaml"), *args],
        cwd=cwd,
        env=env if env is not None else cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def cli_env() -> dict[str, str]:
    """This environment ($FINSYNC_HOME included), using the CLI's own instance under $FINSYNC_HOME/dagster."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("DAGSTER_HOME", None)
    return env


def start_slow_sandbox(directory: Path, latency_ms: int = 40) -> RunningSandboxes:
    """The demo sandboxes with a SaaS-like round trip, so a sync lasts long enough to be caught mid-run."""
    running = start(SandboxOptions(dir=directory, seed="demo", faults=FaultPlan(latency_ms=latency_ms)))
    running.state("freshbooks").limiter.per_minute = 0  # these tests are not about the rate limit
    return running
