"""``finsync sync``: run the read side for a pair now, in this process, through Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finsync_dagster.partitions import DEFAULT_PAIR
from finsync_dagster.settings import PairConfig, Settings, load_settings

if TYPE_CHECKING:
    import dagster as dg

    from finsync_dagster.dead_runs import ClosedRun
    from finsync_dagster.pipeline import PipelineResult

# How long `finsync sync` waits by default for another sync of the same pair to finish.
DEFAULT_WAIT_SECONDS = 300.0

sandbox_option = click.option(
    "--sandbox",
    "sandbox_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Point the pair at the sandboxes described in DIR/sandbox.json, connecting both accounts.",
)
wait_option = click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=DEFAULT_WAIT_SECONDS,
    show_default=True,
    help="Seconds to wait for another run of the same pair to finish (0: fail at once, naming it).",
)


@click.command("sync")
@click.option("--pair", "pair_name", help="The pair to sync (default: every pair in finsync.yaml).")
@sandbox_option
@click.option("--full-refresh", is_flag=True, help="Re-read everything instead of what changed.")
@click.option(
    "--write-back",
    is_flag=True,
    help="Then plan and push the resolved differences to both systems, and reconcile again.",
)
@wait_option
@click.pass_context
def command(
    ctx: click.Context,
    pair_name: str | None,
    sandbox_dir: Path | None,
    full_refresh: bool,
    write_back: bool,
    wait_seconds: float,
) -> None:
    """Run the read side for a pair: extract, validate, map, reconcile and report (and write back)."""
    from finsync_dagster.instance import close_own_dead_runs, instance_for
    from finsync_dagster.pipeline import dagster_home_note, run_read_side

    settings = load_settings(ctx.obj["config_path"], require_file=sandbox_dir is None)
    if sandbox_dir is not None:
        pair_name = pair_name or DEFAULT_PAIR
    pairs = [pair_name] if pair_name else settings.require_pairs()
    if sandbox_dir is None:
        for pair in pairs:
            settings.pair(pair)  # a clear error for an unknown pair, before any lock or run
    instance = instance_for(settings)
    print_closed_runs(close_own_dead_runs(instance))
    console = Console(stderr=True)
    failed = False
    for pair in pairs:
        with hold_pair_for_cli(settings, pair, wait_seconds, console):
            if sandbox_dir is not None:
                settings = connect_sandbox(ctx, settings, pair, sandbox_dir)
            with console.status(f"[bold]{pair}[/]: starting") as status:
                result = run_read_side(
                    settings,
                    pair,
                    instance=instance,
                    full_refresh=full_refresh,
                    on_progress=lambda step, pair=pair: status.update(f"[bold]{pair}[/]: {step}"),
                )
            print_summary(result)
            print_anomalies(settings, pair)
            if result.success and write_back:
                result = _write_back_and_reconcile(settings, pair, instance, console)
            if result.success:
                print_report(settings, pair)
            else:
                print_held(settings, pair)
        failed = failed or not result.success
    note = dagster_home_note()
    if note:
        click.echo(note)
    if failed:
        raise click.ClickException("the sync failed; see the messages above")


def _write_back_and_reconcile(
    settings: Settings, pair: str, instance: dg.DagsterInstance, console: Console
) -> PipelineResult:
    """Plan and push, print what was written, then read both systems again so the report shows it."""
    from finsync_dagster.cli.push import print_push, push_pair
    from finsync_dagster.pipeline import run_read_side

    pushed, ok = push_pair(settings, pair, console)
    print_push(pushed)
    with console.status(f"[bold]{pair}[/]: reconciling again"):
        again = run_read_side(settings, pair, instance=instance)
    if not ok:
        again.success = False
        again.failure = again.failure or "the write-back run failed"
    return again


@contextmanager
def hold_pair_for_cli(
    settings: Settings, pair: str, wait_seconds: float, console: Console, *, what: str = "finsync sync"
) -> Iterator[None]:
    """The pair's lock for this command's whole run of the pair: one sync per pair across processes."""
    from finsync_dagster.pairlock import PairHolder, hold_pair

    def tell(holder: PairHolder | None) -> None:
        who = holder.describe() if holder else "another process"
        console.print(
            f"pair {pair} is being synced by {who}; waiting up to {wait_seconds:.0f} s", soft_wrap=True
        )

    with hold_pair(settings.home, pair, what=what, wait_seconds=wait_seconds, on_wait=tell):
        yield


def print_closed_runs(closed: list[ClosedRun]) -> None:
    for run in closed:
        click.echo(f"closed run {run.run_id[:8]} of pair {run.pair or '?'}: {run.reason}", err=True)


def connect_sandbox(ctx: click.Context, settings: Settings, pair: str, sandbox_dir: Path) -> Settings:
    """Add the sandbox pair to the settings and connect both of its accounts (tokens to the ledger)."""
    from finsync_dagster.cli import connect_freshbooks, connect_infor

    settings = settings.with_pair(PairConfig(name=pair, sandbox_dir=str(sandbox_dir.resolve())))
    ctx.invoke(connect_freshbooks.command, pair_name=pair, sandbox_dir=sandbox_dir)
    ctx.invoke(connect_infor.command, pair_name=pair, sandbox_dir=sandbox_dir)
    return settings


def print_summary(result: PipelineResult) -> None:
    table = Table(title=f"pair {result.pair}: run {result.run_id[:8]}", title_justify="left")
    for column in ("table", "rows", "new", "changed", "deleted", "quarantined"):
        table.add_column(column, justify="left" if column == "table" else "right")
    held_by_checks = _held_by_checks(result)
    for asset in sorted(result.assets, key=lambda a: a.key):
        meta = asset.metadata
        if "inserted" not in meta:
            continue
        table.add_row(
            asset.key.removeprefix("staging/"),
            str(meta.get("live_rows", meta.get("dagster/row_count", ""))),
            str(meta["inserted"]),
            str(meta["updated"]),
            str(meta["deleted"]),
            str(int(meta.get("quarantined", 0)) + held_by_checks.get(asset.key, 0)),
        )
    Console().print(table)
    failed_checks = [c for c in result.checks if not c.passed]
    for check in failed_checks:
        click.echo(f"check failed ({check.severity}): {check.asset} {check.name}: {check.description}")
    if result.failure:
        click.echo(f"error: {result.failure}", err=True)


def _held_by_checks(result: PipelineResult) -> dict[str, int]:
    """Records the quality checks hold, per asset: the column counts them beside the id-less rejects."""
    held: dict[str, int] = {}
    for check in result.checks:
        count = check.metadata.get("quarantined")
        if isinstance(count, int):
            held[check.asset] = held.get(check.asset, 0) + count
    return held


def print_report(settings: Settings, pair: str) -> None:
    """Where this run's reconciliation report is, with its one-line summary (`finsync report` shows all)."""
    from finsync_dagster.reports import latest_report

    paths = latest_report(settings.reports_dir(pair))
    if paths is None:
        return
    headline = next(
        (line for line in Path(paths.summary).read_text(encoding="utf-8").splitlines() if line), ""
    )
    click.echo(f"reconciliation: {headline.strip('*')}")
    click.echo(f"report: {paths.html}")


# Rules shown by a failed sync; the rest are counted in one line (all of them are in quality.quarantine).
HELD_RULES_SHOWN = 10


def print_held(settings: Settings, pair: str) -> None:
    """What the quality checks hold, per table and rule with one reason each.

    Shown when the run failed (a blocking check stops reconciliation, so no report lists them then):
    quarantine is never invisible.
    """
    import duckdb

    from finsync_dagster.quality import held_by_rule
    from finsync_dagster.reports.text import visible

    path = settings.warehouse_path(pair)
    if not path.exists():
        return
    with duckdb.connect(str(path), read_only=True) as connection:
        held = held_by_rule(connection, pair)
    if not held:
        return
    total = sum(h.records for h in held)
    table = Table(title=f"held in quarantine: {total} records (quality.quarantine)", title_justify="left")
    for column in ("table", "rule", "held", "reason (of one record)"):
        table.add_column(column, justify="right" if column == "held" else "left")
    for h in held[:HELD_RULES_SHOWN]:
        table.add_row(h.entity, h.rule, str(h.records), Text(visible(h.reason)))  # record text, not markup
    Console().print(table)
    if len(held) > HELD_RULES_SHOWN:
        click.echo(f"... and {len(held) - HELD_RULES_SHOWN} more rules, in quality.quarantine")


def print_anomalies(settings: Settings, pair: str) -> None:
    """Anomalies per rule found by this run's checks (``quality.anomalies`` in the pair's warehouse)."""
    import duckdb

    from finsync_dagster.quality import anomaly_counts

    path = settings.warehouse_path(pair)
    if not path.exists():
        return
    with duckdb.connect(str(path), read_only=True) as connection:
        counts = anomaly_counts(connection, pair)
    if counts:
        table = Table(
            title=f"anomalies: {sum(counts.values())} (rows in quality.anomalies)", title_justify="left"
        )
        table.add_column("rule")
        table.add_column("flagged", justify="right")
        for rule, n in counts.items():
            table.add_row(rule, str(n))
        Console().print(table)
