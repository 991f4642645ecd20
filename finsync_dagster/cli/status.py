"""``finsync status``: where state lives, and every pair at a glance.

Per pair: the last sync and the lag since, open exceptions and money at stake (from the latest report),
the outbox by state with the dead and in-doubt actions (and how long the oldest has waited), open dead
letters, the webhook inbox backlog and webhook -> target latency where the ledger has an inbox, and the
health of each stored token; below the table, the reason (naming ``finsync connect``) of each token only
a new connect can bring back. ``--json`` gives the same for scripts, in a stable shape (README).

Like every command that opens the Dagster instance, it first closes the runs of finsync processes that
died mid-run (:mod:`finsync_dagster.dead_runs`). It opens the instance only where one exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finsync_dagster.cli.options import age_text, echo_json, utc_text
from finsync_dagster.ledger import LATEST_VERSION, Ledger
from finsync_dagster.settings import Settings, load_settings
from finsync_dagster.status import PairStatus, StatusReport, gather

if TYPE_CHECKING:
    from finsync_dagster.status import RunInfo


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Show the configuration in force and every pair at a glance; migrate the ledger if needed."""
    settings = load_settings(ctx.obj["config_path"])
    ledger = Ledger(settings.ledger_url)
    version = ledger.migrate()
    runs = _latest_runs(settings, quiet=as_json)
    report = gather(settings, ledger, runs=runs)
    if as_json:
        echo_json(
            {
                "generated_at": utc_text(report.generated_at),
                "config": str(settings.config_path),
                "home": str(settings.home),
                "ledger": {
                    "url": ledger.safe_url,
                    "schema_version": version,
                    "latest_version": LATEST_VERSION,
                },
                "dagster_runs": runs is not None,
                "webhook_inbox": report.inbox_available,
                "pairs": [pair.as_json(report.generated_at) for pair in report.pairs],
            }
        )
        return
    rows = {
        "config": str(settings.config_path),
        "home": str(settings.home),
        "ledger": f"{ledger.safe_url} (schema v{version} of {LATEST_VERSION})",
        "pairs": ", ".join(settings.pair_names) or "(none)",
    }
    # Aligned key/value lines rather than a rich table: a table would fold a long path or URL across
    # lines, and these are meant to be copied whole.
    console = Console()
    for key, value in rows.items():
        console.print(Text.assemble((f"{key + ':':<10}", "bold"), value), soft_wrap=True)
    if report.pairs:
        console.print(pairs_table(report))
    for pair in report.pairs:
        for token in pair.tokens:
            if token.health == "reconnect_needed" and token.reason:  # the reason names the pair and the fix
                console.print(Text.assemble(("reconnect: ", "bold red"), token.reason), soft_wrap=True)


def _latest_runs(settings: Settings, *, quiet: bool) -> dict[str, list[RunInfo]] | None:
    """The pairs' latest runs, from the instance finsync and Dagster share; None when there is none yet."""
    if not os.environ.get("DAGSTER_HOME") and not (settings.home / "dagster").is_dir():
        return None  # no instance yet, so no runs; status does not create one
    from finsync_dagster.cli.sync import print_closed_runs
    from finsync_dagster.instance import close_own_dead_runs, instance_for
    from finsync_dagster.status.runs import latest_runs

    with instance_for(settings) as instance:
        closed = close_own_dead_runs(instance)
        if not quiet:
            print_closed_runs(closed)
        return latest_runs(instance, settings.pair_names)


def pairs_table(report: StatusReport) -> Table:
    """One column per pair, one row per figure: pairs are few and figures many, so this fits a terminal."""
    table = Table(title=f"pairs at {utc_text(report.generated_at)}", title_justify="left")
    table.add_column("")
    for pair in report.pairs:
        table.add_column(pair.pair + ("" if pair.declared else " (not declared)"), overflow="fold")
    for label, cells in _figure_rows(report.pairs, report):
        table.add_row(label, *cells)
    return table


def _figure_rows(pairs: Sequence[PairStatus], report: StatusReport) -> list[tuple[str, list[Text | str]]]:
    now = report.generated_at

    def ago(seconds: float | None) -> str:
        return "-" if seconds is None else f"{age_text(seconds)} ago"

    def waited(pair: PairStatus) -> str:
        if pair.oldest_in_doubt_at is None:
            return str(pair.in_doubt)
        return f"{pair.in_doubt} (oldest {age_text((now - pair.oldest_in_doubt_at).total_seconds())})"

    def money(pair: PairStatus) -> str:
        if pair.at_stake is None:
            return "no report yet"
        return ", ".join(f"{c} {a:,.2f}" for c, a in pair.at_stake.items()) or "none"

    def run(pair: PairStatus) -> str:
        last = pair.last_run
        return "-" if last is None else f"{last.job} {last.status.lower()} {utc_text(last.started_at)}"

    def outbox(pair: PairStatus) -> str:
        waiting = {s: n for s, n in pair.outbox.items() if s not in ("done", "cancelled", "dead", "in_doubt")}
        return ", ".join(f"{s} {n}" for s, n in sorted(waiting.items())) or "nothing waiting"

    def inbox(pair: PairStatus) -> str:
        if not pair.inbox_available:
            return "not available"
        oldest = pair.inbox_oldest_at
        return f"{pair.inbox_backlog}" + (
            f" (oldest {age_text((now - oldest).total_seconds())})" if oldest else ""
        )

    def latency(pair: PairStatus) -> str:
        if not pair.inbox_available:
            return "not available"
        if pair.latency_p50_seconds is None:
            return "no data yet"
        return f"{pair.latency_p50_seconds:.1f} s / {pair.latency_p95_seconds:.1f} s"

    def tokens(pair: PairStatus) -> Text:
        text = Text()
        for token in pair.tokens:
            style = "green" if token.health == "ok" else "bold red"
            text.append(f"{token.provider} ", style="bold")
            text.append(token.health.replace("_", " "), style=style)
            text.append("  ")
        return text if pair.tokens else Text("none stored")

    def flagged(value: int) -> Text:
        return Text(str(value), style="bold red" if value else "")

    return [
        ("last sync", [f"{utc_text(p.last_sync_at) or 'never'}" for p in pairs]),
        ("lag", [ago(p.lag_seconds) for p in pairs]),
        ("last run", [run(p) for p in pairs]),
        (
            "open exceptions",
            [str(p.exceptions) if p.exceptions is not None else "no report yet" for p in pairs],
        ),
        ("money at stake", [money(p) for p in pairs]),
        ("outbox", [outbox(p) for p in pairs]),
        ("dead actions", [flagged(p.dead) for p in pairs]),
        ("in doubt", [Text(waited(p), style="bold red" if p.in_doubt else "") for p in pairs]),
        ("dead letters", [flagged(p.dead_letters_open) for p in pairs]),
        ("pushes (1 h)", [str(p.pushes_last_hour) for p in pairs]),
        ("inbox backlog", [inbox(p) for p in pairs]),
        ("webhook→target p50/p95", [latency(p) for p in pairs]),
        ("tokens", [tokens(p) for p in pairs]),
    ]
