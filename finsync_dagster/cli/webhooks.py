"""``finsync webhooks``: run the receiver, register FreshBooks callbacks, list what is registered."""

from __future__ import annotations

import logging

import click
from rich.console import Console
from rich.table import Table

from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import Settings, load_settings


@click.group("webhooks")
def command() -> None:
    """Receive FreshBooks and shop webhooks into the ledger's inbox."""


@command.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8787, show_default=True, help="0 picks a free port.")
@click.option(
    "--max-batch",
    type=click.IntRange(1, 5000),
    default=500,
    show_default=True,
    hidden=True,
    help="Deliveries per inbox commit at most; 1 commits each on its own (the benchmark's baseline).",
)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, max_batch: int) -> None:
    """Serve the webhook endpoints of every pair until interrupted."""
    from finsync_dagster.webhooks import Listening, serve

    settings = load_settings(ctx.obj["config_path"])
    _log_to_stderr()

    def ready(listening: Listening) -> None:
        click.echo(f"listening on {listening.url}; inbox committed durably ({listening.durability})")
        for (pair, system), url in listening.endpoints.items():
            click.echo(f"  {pair} {system:<10} {url}")
        if not listening.endpoints:
            click.echo("  no pair has a FreshBooks account or a shop to receive from", err=True)
        click.echo("Ctrl-C stops")

    serve(settings, host=host, port=port, max_batch=max_batch, on_ready=ready)


@command.command("register")
@click.option("--pair", "pair_name", help="Register this pair only (default: every pair with FreshBooks).")
@click.option(
    "--url",
    "base_url",
    help="The receiver's public URL (default: the one `finsync webhooks serve` runs at on this machine).",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for FreshBooks to verify new callbacks.",
)
@click.pass_context
def register_command(ctx: click.Context, pair_name: str | None, base_url: str | None, wait: float) -> None:
    """Subscribe the FreshBooks events finsync acts on; show what is registered and verified."""
    from finsync_dagster.resources.pair_clients import PairClients
    from finsync_dagster.webhooks import endpoint_url, register, running_url

    settings = load_settings(ctx.obj["config_path"])
    base_url = base_url or running_url(settings.home)
    if not base_url:
        raise ConfigError(
            "no receiver URL: start `finsync webhooks serve` on this machine, or give --url with the "
            "public URL FreshBooks should call"
        )
    clients = PairClients.of(settings)
    ledger = clients.get_ledger()
    rows = []
    for pair in _pairs(settings, pair_name):
        with clients.freshbooks(pair) as client:
            rows += register(client, ledger, pair, endpoint_url(base_url, pair), wait=wait)
    table = Table(title="FreshBooks callbacks")
    for column in ("pair", "event", "callback"):
        table.add_column(column, no_wrap=True)
    table.add_column("url", overflow="fold")
    for column in ("verified", "this run"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        verified = "[green]yes[/green]" if row.verified else "[red]no[/red]"
        table.add_row(
            row.pair, row.event, row.callback_id, row.url, verified, "created" if row.created else "kept"
        )
    Console().print(table)
    unverified = [row for row in rows if not row.verified]
    if unverified:
        click.echo(
            f"{len(unverified)} callback(s) not verified yet: is `finsync webhooks serve` reachable at the URL? "
            "Run register again to resend the verification.",
            err=True,
        )


@command.command("list")
@click.option("--pair", "pair_name", help="Only this pair.")
@click.pass_context
def list_command(ctx: click.Context, pair_name: str | None) -> None:
    """Show the callbacks recorded in the ledger (no call to FreshBooks)."""
    from finsync_dagster.ledger import Ledger

    settings = load_settings(ctx.obj["config_path"])
    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    table = Table(title="Registered webhooks")
    for column in ("pair", "system", "event", "callback", "verified"):
        table.add_column(column, no_wrap=True)
    table.add_column("url", overflow="fold")
    table.add_column("verified at (UTC)", overflow="fold")
    for callback in ledger.webhook_callbacks(pair=pair_name):
        verified_at = callback.verified_at.isoformat(timespec="seconds") if callback.verified_at else ""
        table.add_row(
            callback.pair,
            callback.system,
            callback.event,
            callback.callback_id,
            "yes" if callback.verified else "no",
            callback.url,
            verified_at,
        )
    Console().print(table)


def _pairs(settings: Settings, pair_name: str | None) -> list[str]:
    if pair_name is not None:
        settings.pair(pair_name)  # an unknown name is a clear error
        return [pair_name]
    names = [pair.name for pair in settings.pairs if pair.freshbooks is not None]
    if not names:
        raise ConfigError(f"{settings.config_path}: no pair has a FreshBooks account to register")
    return names


def _log_to_stderr() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("finsync.webhooks")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
