"""``finsync audit``: every external call and every hand-made decision, newest last, times in UTC.

Append-only: the write side logs each call (time, pair, action, key, target id, outcome, latency,
attempt) and each ``dlq retry``/``resolve`` with the person who ran it; no secret is ever in it.
``finsync audit export`` writes it as CSV or XLSX for auditors (spreadsheet-safe, see ``reports.tables``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finsync_dagster.cli.options import SINCE, echo_json, open_ledger, utc_text
from finsync_dagster.cli.outbox import audit_json, find_action
from finsync_dagster.reports.tables import FORMATS

DEFAULT_LIMIT = 200
EXPORT_COLUMNS = ("id", "at", "pair", "action_key", "action", "target", "call", "step", "target_id", "outcome",
                  "error", "latency_ms", "attempt", "actor")  # fmt: skip


@click.group("audit", invoke_without_command=True)
@click.option("--pair", "pair_name", help="Only this pair.")
@click.option("--since", type=SINCE, help="From this time: 30m, 2h, 1d, 1w ago, or an ISO time (UTC).")
@click.option("--key", help="Only the calls of this action (its key, or the first characters of it).")
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True, type=click.IntRange(min=1),
              help="Show the newest this many entries.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def command(
    ctx: click.Context,
    pair_name: str | None,
    since: datetime | None,
    key: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The audit log: every call to FreshBooks and M3, and every retry or resolve by a person."""
    if ctx.invoked_subcommand is not None:
        return
    _settings, ledger = open_ledger(ctx)
    keys = [find_action(ledger, key).key] if key else None
    entries = [
        audit_json(e)
        for e in ledger.audit_entries(pair=pair_name, since=since, action_keys=keys, limit=limit)
    ]
    if as_json:
        echo_json({"entries": entries})
        return
    console = Console()
    if not entries:
        console.print("no audit entries" + (" since " + (utc_text(since) or "") if since else ""))
        return
    table = Table(title=f"audit log: the newest {len(entries)} entries (UTC)", title_justify="left")
    for column in (
        "at (UTC)",
        "pair",
        "key",
        "action",
        "call",
        "outcome",
        "target id",
        "ms",
        "actor",
        "error",
    ):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            e["at"], e["pair"], (e["action_key"] or "")[:10], e["call"] + (f" [{e['step']}]" if e["step"] else ""),
            e["outcome"], e["target_id"] or "", str(e["latency_ms"] or ""), (e["actor"] or "").split("/")[0],
            Text(e["error"] or ""),
        )  # fmt: skip
    console.print(table)


@command.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--pair", "pair_name", help="Only this pair.")
@click.option("--since", type=SINCE, help="From this time: 30m, 2h, 1d, 1w ago, or an ISO time (UTC).")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="The file (default audit.<format>)."
)
@click.pass_context
def export_command(
    ctx: click.Context, fmt: str, pair_name: str | None, since: datetime | None, out: Path | None
) -> None:
    """Write the audit log to a CSV or XLSX file (times in UTC), safe to open in a spreadsheet."""
    from finsync_dagster.reports.tables import write_table

    _settings, ledger = open_ledger(ctx)
    out = out or Path(f"audit.{fmt}")
    entries = (audit_json(e) for e in ledger.iter_audit(pair=pair_name, since=since))
    rows = ([entry[c] for c in EXPORT_COLUMNS] for entry in entries)
    try:
        written = write_table(out, EXPORT_COLUMNS, rows, format=fmt, title="Audit log")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{written} audit entries written to {out}")
