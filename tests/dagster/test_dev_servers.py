"""A newcomer's first command: `dagster dev` or `dg dev` from the repository root, with no environment set,
serves the UI on the embedded instance with the finsync code location loaded, and prints no traceback.
(Slow: each starts a webserver, a daemon and a code server.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.dagster.test_definitions import newcomer_env

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "command", [["dagster", "dev", "-w", "workspace.yaml"], ["dg", "dev"]], ids=["dagster-dev", "dg-dev"]
)
def test_the_dev_server_serves_the_code_location(
    finsync_home: Path, tmp_path: Path, command: list[str]
) -> None:
    port = free_port()
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / command[0]), *command[1:], "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=newcomer_env(finsync_home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the daemon and code server stop with it
        )
    try:
        entries = _loaded_locations(f"http://127.0.0.1:{port}", deadline=time.monotonic() + 150)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    output = log.read_text(encoding="utf-8")
    loaded = {
        "name": "finsync_dagster.definitions:defs",  # as workspace.yaml names it, for both commands
        "loadStatus": "LOADED",
        "locationOrLoadError": {"__typename": "RepositoryLocation"},
    }
    assert entries == [loaded], output[-3000:]
    assert "Traceback" not in output
    assert "DAGSTER_PG" not in output


def _loaded_locations(url: str, deadline: float) -> list[dict]:
    """The workspace's code locations once the server answers and has finished loading them."""
    while time.monotonic() < deadline:
        try:
            response = httpx.post(f"{url}/graphql", json={"query": LOCATIONS}, timeout=5)
            entries = response.json()["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                return entries
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not serve a loaded code location in time")
