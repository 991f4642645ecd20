"""``finsync demo``: the whole read side on the demo business, in one command, on a fresh machine.

Starts the FreshBooks, Infor and shop sandboxes with the demo seed in this process (under
``$FINSYNC_HOME/demo``, fresh each time), connects both accounts as pair ``demo`` (the shop's orders are
staged too), runs extraction, validation, mapping, reconciliation and reports through Dagster, prints the
reconciliation summary and where the reports are, and stops the sandboxes.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click
from rich.console import Console

from finsync_dagster.settings import load_settings

DEMO_PAIR = "demo"


@click.command("demo")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Run finsync end to end on the demo sandboxes and show the reconciliation report."""
    from finsync_dagster.cli.report import echo_report
    from finsync_dagster.cli.sync import (
        DEFAULT_WAIT_SECONDS,
        connect_sandbox,
        hold_pair_for_cli,
        print_closed_runs,
    )
    from finsync_dagster.instance import close_own_dead_runs, instance_for
    from finsync_dagster.pipeline import dagster_home_note, run_read_side
    from finsync_dagster.reports import latest_report
    from finsync_dagster.sandbox.runner import SandboxOptions, start

    began = time.monotonic()
    settings = load_settings(ctx.obj["config_path"], require_file=False)
    sandbox_dir = settings.home / "demo" / "sandbox"
    console = Console(stderr=True)
    instance = instance_for(settings)
    print_closed_runs(close_own_dead_runs(instance))
    with hold_pair_for_cli(settings, DEMO_PAIR, DEFAULT_WAIT_SECONDS, console, what="finsync demo"):
        shutil.rmtree(sandbox_dir, ignore_errors=True)  # the demo always starts from the seed
        with console.status("starting the FreshBooks, Infor and shop sandboxes (demo seed)"):
            running = start(SandboxOptions(dir=sandbox_dir, seed="demo"))
        try:
            settings = connect_sandbox(ctx, settings, DEMO_PAIR, sandbox_dir)
            with console.status("running the read side through Dagster") as status:
                result = run_read_side(
                    settings,
                    DEMO_PAIR,
                    instance=instance,
                    full_refresh=True,
                    on_progress=lambda step: status.update(f"[bold]{DEMO_PAIR}[/]: {step}"),
                )
        finally:
            running.stop()
            running.state("freshbooks").webhooks.close()
            running.state("shop").webhooks.close()
    if not result.success:
        raise click.ClickException(f"the demo run failed: {result.failure}")
    paths = latest_report(settings.reports_dir(DEMO_PAIR))
    if paths is None:
        raise click.ClickException("the run finished but wrote no report")
    click.echo("")
    echo_report(DEMO_PAIR, paths.html, paths.xlsx, paths.directory, Path(paths.summary))
    note = dagster_home_note()
    if note:
        click.echo(note)
    click.echo(f"demo finished in {time.monotonic() - began:.0f} s; the sandboxes are stopped.")
