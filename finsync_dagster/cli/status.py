"""``finsync status``: where state lives, which pairs are declared, and the ledger's schema version."""

from __future__ import annotations

import click

from finsync_dagster.ledger import LATEST_VERSION, Ledger
from finsync_dagster.settings import load_settings


@click.command("status")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Show the configuration in force and migrate the ledger if needed."""
    settings = load_settings(ctx.obj["config_path"])
    ledger = Ledger(settings.ledger_url)
    version = ledger.migrate()
    click.echo(f"config:   {settings.config_path}")
    click.echo(f"home:     {settings.home}")
    click.echo(f"ledger:   {ledger.safe_url} (schema v{version} of {LATEST_VERSION})")
    click.echo(f"pairs:    {', '.join(settings.pair_names) or '(none)'}")
