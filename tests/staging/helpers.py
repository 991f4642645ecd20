"""Helpers of the staging tests: start both demo sandboxes, and connect a pair to them as a user would."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, start
from finsync_dagster.settings import PairConfig, Settings


def start_demo(directory: Path) -> RunningSandboxes:
    running = start(SandboxOptions(dir=directory, seed="demo"))
    running.state("freshbooks").limiter.per_minute = 0  # tests are not about the rate limit
    return running


def connect(settings: Settings, pair: str, sandbox_dir: Path) -> Settings:
    settings = settings.with_pair(PairConfig(name=pair, sandbox_dir=str(sandbox_dir)))
    runner = CliRunner()
    for system in ("freshbooks", "infor"):
        result = runner.invoke(cli, ["connect", system, "--pair", pair, "--sandbox", str(sandbox_dir)])
        assert result.exit_code == 0, result.output
    return settings
