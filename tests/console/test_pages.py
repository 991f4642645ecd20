"""The read-only pages and the commands: pairs at a glance (figures, Dagster links, "not available" for
what is not there yet), approvals (empty until the workflows), reports to open and download, and
``finsync users`` / ``finsync console``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.console import ConsoleConfig, create_app
from finsync_dagster.console.server import running_console
from finsync_dagster.ledger import Delivery, Ledger, freshbooks_key, utcnow
from tests.console.conftest import PAIR, PASSWORD, ConsoleWorld, sign_in
from tests.console.test_dead_letters import dead


def test_pairs_at_a_glance(app_client: httpx.Client, world: ConsoleWorld) -> None:
    dead(world.ledger, "C1", message="email is invalid")
    waiting = [webhook(PAIR, str(n)) for n in (1, 2)] + [webhook("other", "3")]
    world.ledger.add_to_inbox(waiting)
    sign_in(app_client, "vic")
    page = app_client.get("/").text
    start = page.index(f'<tr data-pair="{PAIR}">')
    row = page[start : page.index("</tr>", start)]
    assert ">6</a>" in row and ">2</a>" in row  # for review, exceptions
    assert "USD 55.05" in row  # money at stake, per currency
    assert 'class="dead">1</a>' in row
    assert "not available" not in row  # the ledger has a webhook inbox: its figures, zeros included
    assert "no Dagster UI known" in row
    figures = app_client.get("/api/pairs").json()["pairs"][0]
    assert figures["to_review"] == 6 and figures["at_stake"] == {"USD": "55.05"}
    assert figures["outbox"] == {"dead": 1}
    # two deliveries of this pair wait; nothing has been written for an event yet
    assert figures["events"] == {
        "inbox_backlog": 2, "latency_p50_seconds": None, "latency_p95_seconds": None, "pushes_per_minute": 0.0,
    }  # fmt: skip


def webhook(pair: str, object_id: str) -> Delivery:
    fields = {"name": "invoice.update", "object_id": object_id, "account_id": "A1", "business_id": "7"}
    return Delivery(
        pair=pair, system="freshbooks", event="invoice.update", object_id=object_id, account_id="A1",
        business_id="7", dedupe_key=freshbooks_key(fields), body="", received_at=utcnow(),
    )  # fmt: skip


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


def test_behind_a_proxy_that_serves_it_under_a_prefix(world: ConsoleWorld) -> None:
    """deploy/proxy serves the console at /console/ and strips the prefix; `finsync console --root-path
    /console` makes every link, form, redirect and cookie carry it."""
    app = create_app(world.settings, world.ledger, ConsoleConfig(specs_dir=world.specs_dir))

    async def proxy(scope: Any, receive: Any, send: Any) -> None:  # strips the prefix, as nginx does
        if scope["type"] == "http" and scope["path"].startswith("/console/console"):
            scope = {**scope, "path": scope["path"][len("/console") :]}
        await app(scope, receive, send)

    with (
        running_console(proxy, root_path="/console") as running,
        httpx.Client(base_url=running.url + "/console", follow_redirects=False) as client,
    ):
        first = client.get("/review")
        assert first.headers["location"] == "/console/login?next=%2Freview"
        token = sign_in(client, "rita")
        page = client.get(f"/review?pair={PAIR}").text
        assert 'href="/console/static/console.css"' in page and 'action="/console/review/accept"' in page
        assert 'href="/review' not in page and 'action="/review' not in page
        accepted = client.post(
            "/review/accept",
            data={"csrf_token": token, "pair": PAIR, "entity": "customers", "freshbooks_id": "11",
                  "infor_id": "C11", "back": f"/review?pair={PAIR}"},
        )  # fmt: skip
        assert accepted.headers["location"] == f"/console/review?pair={PAIR}"
    assert len(world.ledger.links(PAIR)) == 1


def test_the_deploy_recipes_console_unit_runs_real_options() -> None:
    import click

    from tests.dagster.test_deploy_recipe import units

    argv = units()["finsync-console"]
    command = cli.get_command(click.Context(cli), "console")
    assert command is not None and argv[1] == "console"
    parsed = command.make_context("console", argv[2:], parent=click.Context(cli, obj={"config_path": None}))
    assert parsed.params["root_path"] == "/console" and parsed.params["host"] == "127.0.0.1"
