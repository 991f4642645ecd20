"""``finsync console``: serve the web console (review queue, dead letters, mapping studio, reports)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click
import uvicorn

from finsync_dagster.console import ConsoleConfig, create_app
from finsync_dagster.ledger import Ledger
from finsync_dagster.mapping.registry import SPECS_DIR
from finsync_dagster.settings import load_settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str:
    return (
        f"WARNING: the console listens on {host}, not on loopback: anyone who can reach this address gets its "
        "sign-in page, and without https passwords and session cookies cross the network in clear text. "
        "Serve it behind an authenticating reverse proxy with TLS (README, Console), or use --host 127.0.0.1."
    )


@click.command("console")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to bind; anything but loopback warns."
)
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=SPECS_DIR,
    show_default="the package's specs",
    help="The mapping specs the studio reads and saves.",
)
@click.option(
    "--dagster-url", help="The Dagster UI to link to (default: dagster_url in $FINSYNC_HOME/serve.json)."
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For/-Proto are believed (the client address limits sign-in attempts).",
)
@click.option(
    "--root-path",
    default="",
    help="The path prefix a reverse proxy serves the console under and strips, e.g. /console.",
)
@click.pass_context
def command(
    ctx: click.Context,
    host: str,
    port: int,
    specs_dir: Path,
    dagster_url: str | None,
    forwarded_allow_ips: str,
    root_path: str,
) -> None:
    """Serve the console in the foreground until Ctrl-C."""
    settings = load_settings(ctx.obj["config_path"], require_file=False)
    ledger = Ledger(settings.ledger_url)
    app = create_app(settings, ledger, ConsoleConfig(specs_dir=specs_dir.resolve(), dagster_url=dagster_url))
    if not is_loopback(host):
        click.secho(exposure_warning(host), err=True, fg="red", bold=True)
    if not ledger.users():
        click.echo("no users yet: add one with `finsync users add NAME --role admin`", err=True)
    click.echo(
        f"console on http://{host}:{port}{root_path.rstrip('/')}/ (ledger {ledger.safe_url}); Ctrl-C stops"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        root_path=root_path.rstrip("/"),
    )
