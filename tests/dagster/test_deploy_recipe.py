"""The production recipe in deploy/: the processes it starts and the proxy in front of them agree, nothing
listens beyond loopback, and the viewers' Dagster UI really is read-only: started against the production
instance config on PostgreSQL, it serves reads and refuses to launch a run."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.dagster.test_dev_servers import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent


def units() -> dict[str, list[str]]:
    """Each systemd unit's ExecStart as argv."""
    found = {}
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        line = next(
            line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("ExecStart=")
        )
        found[path.stem] = shlex.split(line.removeprefix("ExecStart="))
    return found


def test_every_process_listens_on_loopback_and_the_proxy_fronts_each_port() -> None:
    ports: dict[str, str] = {}
    for name, argv in units().items():
        if "-h" in argv:
            assert argv[argv.index("-h") + 1] == "127.0.0.1", name
        if "--host" in argv:
            assert argv[argv.index("--host") + 1] == "127.0.0.1", name
        for flag in ("-p", "--port"):
            if flag in argv:
                ports[name] = argv[argv.index(flag) + 1]
    assert "--read-only" in units()["finsync-viewer"] and "--read-only" not in units()["finsync-operator"]
    nginx = (DEPLOY / "proxy" / "nginx.conf").read_text(encoding="utf-8")
    upstreams = dict(re.findall(r"upstream (\w+)\s*\{\s*server 127\.0\.0\.1:(\d+);", nginx))
    assert set(ports.values()) <= set(upstreams.values()), (ports, upstreams)
    caddy = (DEPLOY / "proxy" / "Caddyfile").read_text(encoding="utf-8")
    assert set(ports.values()) <= set(re.findall(r"reverse_proxy 127\.0\.0\.1:(\d+)", caddy))
    # What can act sits behind the login; only the signature-checking receiver does not.
    locations = re.findall(r"location (/[\w-]+/) \{(.*?)\n    \}", nginx, flags=re.S)
    assert {name for name, _ in locations} == {
        "/oauth2/",
        "/dagster/",
        "/dagster-admin/",
        "/console/",
        "/webhooks/",
    }
    for location, block in locations:
        if location != "/oauth2/":  # the login itself
            assert ("auth_request" in block) == (location != "/webhooks/"), location
    assert "allowed_groups=finsync-operators" in nginx and "allowed_groups=finsync-operators" in caddy


def test_the_finsync_commands_the_units_run_exist() -> None:
    from finsync_dagster.cli import cli

    for name, argv in units().items():
        if Path(argv[0]).name != "finsync":
            continue
        group, *rest = argv[1:]
        command = cli.get_command(None, group)  # type: ignore[arg-type]
        if command is None and group in ("webhooks", "console"):
            continue  # arrives with the webhook receiver and the console
        assert command is not None, name
        if rest and not rest[0].startswith("-"):
            assert command.get_command(None, rest[0]) is not None, name  # type: ignore[attr-defined]


LAUNCH = """
mutation {
  launchRun(executionParams: {
    selector: {repositoryLocationName: "finsync_dagster.definitions:defs", repositoryName: "__repository__",
               jobName: "read_side"},
    executionMetadata: {tags: [{key: "dagster/partition", value: "sandbox"}]}
  }) { __typename ... on UnauthorizedError { message } ... on PythonError { message } }
}
"""
READ = """
{ permissions { permission value }
  workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } }
  runsOrError { __typename } }
"""


@pytest.mark.slow
@pytest.mark.postgres
def test_the_read_only_webserver_reads_and_refuses_a_launch(
    postgres_database: dict[str, str], finsync_home: Path, tmp_path: Path
) -> None:
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DAGSTER_", "FINSYNC_"))}
    env.update(
        DAGSTER_HOME=str(dagster_home), FINSYNC_HOME=str(finsync_home), FINSYNC_LEDGER_URL=postgres_database["url"],
        DAGSTER_PG_HOST=postgres_database["host"], DAGSTER_PG_PORT=postgres_database["port"],
        DAGSTER_PG_USER=postgres_database["user"], DAGSTER_PG_PASSWORD=postgres_database["password"],
        DAGSTER_PG_DB=postgres_database["database"],
    )  # fmt: skip
    argv = units()["finsync-viewer"]
    argv = [str(BIN / "dagster-webserver"), *argv[1:]]
    port = free_port()
    argv[argv.index("-p") + 1] = str(port)
    prefix = argv[argv.index("--path-prefix") + 1]
    log = tmp_path / "webserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}{prefix}/graphql"
    try:
        read = _when_loaded(url, deadline=time.monotonic() + 180)
        launch = httpx.post(url, json={"query": LAUNCH}, timeout=30).json()
        runs = httpx.post(
            url, json={"query": "{ runsOrError { ... on Runs { results { runId } } } }"}, timeout=30
        ).json()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    permissions = {p["permission"]: p["value"] for p in read["data"]["permissions"]}
    assert (
        permissions["launch_pipeline_execution"] is False
        and permissions["terminate_pipeline_execution"] is False
    )
    assert read["data"]["runsOrError"]["__typename"] == "Runs"  # reads work
    assert launch["data"]["launchRun"]["__typename"] == "UnauthorizedError", launch
    assert runs["data"]["runsOrError"]["results"] == []  # and nothing was launched
    assert "Traceback" not in log.read_text(encoding="utf-8")


def _when_loaded(url: str, *, deadline: float) -> dict:
    while time.monotonic() < deadline:
        try:
            answer = httpx.post(url, json={"query": READ}, timeout=10).json()
            entries = answer["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return answer
        except (httpx.HTTPError, KeyError, ValueError, TypeError):
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not load the code location in time")
