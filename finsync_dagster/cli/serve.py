"""``finsync serve``: the daemon, the webserver, the webhook receiver and the console, in one command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from finsync_dagster.settings import load_settings

SANDBOX_PAIR = "sandbox"


@click.command("serve")
@click.option(
    "--sandbox",
    "sandbox_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Serve the sandboxes described in DIR/sandbox.json as pair 'sandbox': connect both accounts and "
    "register and verify the FreshBooks callbacks.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface every server binds.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
              help="The webhook receiver's port (0 picks a free one).")  # fmt: skip
@click.option("--dagster-port", type=click.IntRange(0, 65535), default=0, help="Default: a free port.")
@click.option("--console-port", type=click.IntRange(0, 65535), default=0, help="Default: a free port.")
@click.option(
    "--poll-interval",
    "poll_seconds",
    type=click.IntRange(5),
    help="Seconds between polls for changes the webhooks missed (default: schedules.poll_interval_seconds).",
)
@click.pass_context
def command(
    ctx: click.Context,
    sandbox_dir: Path | None,
    host: str,
    port: int,
    dagster_port: int,
    console_port: int,
    poll_seconds: int | None,
) -> None:
    """Run finsync live: sensors and schedules running, webhooks received, until Ctrl-C or SIGTERM.

    Writes $FINSYNC_HOME/serve.json (webhook_url, dagster_url, console_url, pid) once everything answers.
    """
    from finsync_dagster.serve import ServeOptions, serve

    settings = load_settings(ctx.obj["config_path"], require_file=sandbox_dir is None)
    if sandbox_dir is not None:
        from finsync_dagster.cli.sync import connect_sandbox

        settings = connect_sandbox(ctx, settings, SANDBOX_PAIR, sandbox_dir)
    else:
        settings.require_pairs()
    options = ServeOptions(
        host=host,
        port=port,
        dagster_port=dagster_port,
        console_port=console_port,
        poll_seconds=poll_seconds,
        register_pair=SANDBOX_PAIR if sandbox_dir is not None else None,
    )
    sys.exit(serve(settings, options, say=click.echo))
