"""``finsync status``: where state lives, which pairs are declared, the ledger's schema version, and any
token that only a new ``finsync connect`` can bring back (with the reason and the command).

Like every command that opens the Dagster instance, it first closes the runs of finsync processes that
died mid-run (:mod:`finsync_dagster.dead_runs`).
"""

from __future__ import annotations

import os

import click
from rich.console import Console
from rich.text import Text

from finsync_dagster.ledger import LATEST_VERSION, Ledger
from finsync_dagster.settings import Settings, load_settings


@click.command("status")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Show the configuration in force and migrate the ledger if needed."""
    settings = load_settings(ctx.obj["config_path"])
    ledger = Ledger(settings.ledger_url)
    version = ledger.migrate()
    rows = {
        "config": str(settings.config_path),
        "home": str(settings.home),
        "ledger": f"{ledger.safe_url} (schema v{version} of {LATEST_VERSION})",
        "pairs": ", ".join(settings.pair_names) or "(none)",
    }
    reconnect = ledger.tokens_needing_reconnect()
    # Aligned key/value lines rather than a rich table: a table would fold a long path or URL across
    # lines, and these are meant to be copied whole.
    console = Console()
    for key, value in rows.items():
        console.print(Text.assemble((f"{key + ':':<10}", "bold"), value), soft_wrap=True)
    for _provider, _account, reason in reconnect:  # the reason names both, and the fix
        console.print(Text.assemble((f"{'reconnect:':<11}", "bold red"), reason), soft_wrap=True)
    _close_dead_runs(settings)


def _close_dead_runs(settings: Settings) -> None:
    if not os.environ.get("DAGSTER_HOME") and not (settings.home / "dagster").is_dir():
        return  # no instance yet, so no runs to close; status does not create one
    from finsync_dagster.cli.sync import print_closed_runs
    from finsync_dagster.pipeline import close_own_dead_runs, instance_for

    with instance_for(settings) as instance:
        print_closed_runs(close_own_dead_runs(instance))
