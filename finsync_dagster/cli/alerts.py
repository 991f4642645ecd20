"""``finsync alerts check|run``: evaluate the alert rules of finsync.yaml and tell people what changed.

``check`` runs one cycle and prints what fired and what was sent; ``run`` repeats it every
``alerts.interval_seconds`` until Ctrl-C. Both read the Dagster instance finsync shares (failed runs, what
the polls saw) when there is one.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import click
from rich.console import Console

from finsync_dagster.alerts import CheckResult, channels_from, check_once, run_forever
from finsync_dagster.cli.options import echo_json, open_ledger
from finsync_dagster.settings import Settings

if TYPE_CHECKING:
    import dagster as dg


@click.group("alerts")
def command() -> None:
    """Alerts to Slack and e-mail: failed runs, dead actions, dead-letter growth, backlog, lag, tokens."""


def _print(result: CheckResult, console: Console) -> None:
    for notification, channel in result.delivered:
        state = "recovered" if notification.recovered else "ALERT"
        console.print(f"sent to {channel}: {state} {notification.rule} {notification.subject}")
    for notification, channel, error in result.failed:
        console.print(
            f"not sent to {channel} (tried again next check): {notification.rule} {notification.subject}: {error}"
        )


def _instance(settings: Settings) -> dg.DagsterInstance | None:
    if not os.environ.get("DAGSTER_HOME") and not (settings.home / "dagster").is_dir():
        return None
    from finsync_dagster.instance import instance_for

    return instance_for(settings)


@command.command("check")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def check_command(ctx: click.Context, as_json: bool) -> None:
    """Evaluate every rule once and deliver the notifications due."""
    settings, ledger = open_ledger(ctx)
    channels = channels_from(settings.alerts, os.environ, config_path=str(settings.config_path))
    instance = _instance(settings)
    try:
        result = check_once(settings, ledger, instance=instance, channels=channels)
    finally:
        if instance is not None:
            instance.dispose()
    if as_json:
        echo_json(
            {
                "firing": result.firing,
                "delivered": [
                    {"rule": n.rule, "subject": n.subject, "state": n.state, "channel": c}
                    for n, c in result.delivered
                ],
                "failed": [
                    {"rule": n.rule, "subject": n.subject, "state": n.state, "channel": c, "error": e}
                    for n, c, e in result.failed
                ],
            }
        )
        return
    console = Console()
    if not channels:
        console.print("no channel configured (finsync.yaml `alerts.slack_webhook_url_env` or `alerts.smtp`)")
    console.print(f"firing: {', '.join(result.firing) or 'nothing'}")
    _print(result, console)
    if result.failed:
        raise click.ClickException(f"{len(result.failed)} notification(s) could not be delivered")


@command.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Check every `alerts.interval_seconds` (default 30) until Ctrl-C."""
    settings, ledger = open_ledger(ctx)
    channels = channels_from(settings.alerts, os.environ, config_path=str(settings.config_path))
    if not channels:
        raise click.ClickException(
            f"{settings.config_path}: no alert channel configured; set `alerts.slack_webhook_url_env` or `alerts.smtp`"
        )
    console = Console()
    console.print(f"checking every {settings.alerts.interval_seconds} s; Ctrl-C stops")
    instance = _instance(settings)
    stop = threading.Event()
    try:
        run_forever(settings, ledger, instance=instance, channels=channels, stop=stop,
                    on_result=lambda result: _print(result, console))  # fmt: skip
    finally:
        stop.set()
        if instance is not None:
            instance.dispose()
