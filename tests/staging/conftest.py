"""Fixtures of the staging tests: both sandboxes with the demo seed, and the read side run for a pair."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.pipeline import PipelineResult, run_read_side
from finsync_dagster.sandbox.runner import RunningSandboxes
from finsync_dagster.settings import load_settings
from tests.staging.helpers import connect, start_demo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[RunningSandboxes]:
    """Fresh sandboxes for one test: staging tests create, change and delete records."""
    running = start_demo(tmp_path / "sandbox")
    try:
        yield running
    finally:
        running.stop()
        running.state("freshbooks").webhooks.close()


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
