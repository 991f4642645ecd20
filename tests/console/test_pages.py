"""The read-only pages and the commands: pairs at a glance (figures, Dagster links, "not available" for
what is not there yet), approvals (empty until the workflows), reports to open and download, and
``finsync users`` / ``finsync console``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.console import ConsoleConfig, create_app
from finsync_dagster.console.server import running_console
from finsync_dagster.ledger import Ledger
from tests.console.conftest import PAIR, PASSWORD, ConsoleWorld, sign_in
from tests.console.test_dead_letters import dead


def test_pairs_at_a_glance(app_client: httpx.Client, world: ConsoleWorld) -> None:
    dead(world.ledger, "C1", message="email is invalid")
    sign_in(app_client, "vic")
    page = app_client.get("/").text
    start = page.index(f'<tr data-pair="{PAIR}">')
    row = page[start : page.index("</tr>", start)]
    assert ">6</a>" in row and ">2</a>" in row  # for review, exceptions
    assert "USD 55.05" in row  # money at stake, per currency
    assert 'class="dead">1</a>' in row
    assert row.count("not available") == 3  # inbox backlog, latency, pushes: no webhook inbox yet
    assert "no Dagster UI known" in row
    figures = app_client.get("/api/pairs").json()["pairs"][0]
    assert figures["to_review"] == 6 and figures["at_stake"] == {"USD": "55.05"}
    assert figures["outbox"] == {"dead": 1} and figures["events"] is None


def test_dagster_links_come_from_serve_json(world: ConsoleWorld) -> None:
    (world.home / "serve.json").write_text(
        json.dumps({"dagster_url": "http://127.0.0.1:3999"}), encoding="utf-8"
    )
    app = create_app(world.settings, world.ledger, ConsoleConfig(specs_dir=world.specs_dir))
    with running_console(app) as running, httpx.Client(base_url=running.url) as client:
        sign_in(client, "vic")
        page = client.get("/").text
    assert 'href="http://127.0.0.1:3999/runs?q%5B0%5D=tag%3Adagster%2Fpartition%3Dacme"' in page


def test_approvals_is_empty_and_says_why(app_client: httpx.Client) -> None:
    sign_in(app_client, "vic")
    page = app_client.get("/approvals").text
    assert 'id="no-approvals"' in page and "not part of this finsync yet" in page


def test_every_run_report_opens_and_downloads(app_client: httpx.Client, world: ConsoleWorld) -> None:
    sign_in(app_client, "vic")
    page = app_client.get("/reports").text
    (run,) = [p.name for p in world.settings.reports_dir(PAIR).iterdir() if p.is_dir() and not p.is_symlink()]
    assert f'data-run="{run}"' in page and "latest" in page
    html = app_client.get(f"/reports/{PAIR}/{run}/report.html")
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
    assert "attachment" not in html.headers.get("content-disposition", "")
    csv = app_client.get(f"/reports/{PAIR}/{run}/exceptions.csv?download=1")
    assert csv.status_code == 200 and csv.headers["content-disposition"].startswith("attachment")
    assert "stray on FS-0099" in csv.text
    for bad in (f"/reports/{PAIR}/{run}/review.parquet", f"/reports/{PAIR}/..%2F..%2Fledger.sqlite/x.csv",
                f"/reports/nopair/{run}/report.html", f"/reports/{PAIR}/{run}/..%2F..%2F..%2Fledger.sqlite"):  # fmt: skip
        assert app_client.get(bad).status_code == 404, bad


def test_users_commands(world: ConsoleWorld) -> None:
    env = {"FINSYNC_HOME": str(world.home), "FINSYNC_CONFIG": str(world.settings.config_path)}
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "fiona", "--role", "reviewer", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added fiona (reviewer)" in added.output
    short = runner.invoke(
        cli, ["users", "add", "gus", "--role", "viewer", "--password-stdin"], input="short\n", env=env
    )
    assert short.exit_code == 1 and "at least 12 characters" in str(short.exception)
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert [line.split()[:2] for line in listed.output.splitlines()] == [
        ["ada", "admin"], ["fiona", "reviewer"], ["rita", "reviewer"], ["vic", "viewer"]
    ]  # fmt: skip
    assert runner.invoke(cli, ["users", "remove", "fiona"], env=env).exit_code == 0
    gone = runner.invoke(cli, ["users", "remove", "fiona"], env=env)
    assert gone.exit_code == 1 and "no user named 'fiona'" in str(gone.exception)
    assert Ledger(world.settings.ledger_url).verify_password("fiona", PASSWORD) is None


def test_the_console_command_warns_loudly_off_loopback(world: ConsoleWorld, tmp_path: Path) -> None:
    """Started on 0.0.0.0 it prints the warning, then serves; killed after its first answer."""
    env = {"FINSYNC_HOME": str(world.home), "FINSYNC_CONFIG": str(world.settings.config_path), "PATH": ""}
    with subprocess.Popen(
        [sys.executable, "-m", "finsync_dagster.cli", "console", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    ) as process:  # fmt: skip
        try:
            assert process.stderr is not None
            warning = process.stderr.readline()
        finally:
            process.kill()
    assert "WARNING: the console listens on 0.0.0.0, not on loopback" in warning
