"""Both sandboxes with the demo seed, and a helper that runs the read side for a pair through Dagster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.pipeline import PipelineResult, run_read_side
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, start
from finsync_dagster.settings import PairConfig, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def start_demo(directory: Path) -> RunningSandboxes:
    running = start(SandboxOptions(dir=directory, seed="demo"))
    running.state("freshbooks").limiter.per_minute = 0  # tests are not about the rate limit
    return running


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[RunningSandboxes]:
    """Fresh sandboxes for one test: staging tests create, change and delete records."""
    running = start_demo(tmp_path / "sandbox")
    try:
        yield running
    finally:
        running.stop()
        running.state("freshbooks").webhooks.close()


def connect(settings: Settings, pair: str, sandbox_dir: Path) -> Settings:
    settings = settings.with_pair(PairConfig(name=pair, sandbox_dir=str(sandbox_dir)))
    runner = CliRunner()
    for system in ("freshbooks", "infor"):
        result = runner.invoke(cli, ["connect", system, "--pair", pair, "--sandbox", str(sandbox_dir)])
        assert result.exit_code == 0, result.output
    return settings


Sync = Callable[..., PipelineResult]


@pytest.fixture
def sync(finsync_home: Path, sandboxes: RunningSandboxes) -> Sync:
    """Run the read side of the ``sandbox`` pair (connected on first use) and return its outcome."""
    settings = connect(load_settings(REPO / "finsync.yaml"), "sandbox", sandboxes.dir)
    instance = dg.DagsterInstance.ephemeral()

    def run(*, full_refresh: bool = False, pair: str = "sandbox") -> PipelineResult:
        result = run_read_side(settings, pair, instance=instance, full_refresh=full_refresh)
        assert result.success, result.failure
        return result

    run.settings = settings  # type: ignore[attr-defined]
    return run
