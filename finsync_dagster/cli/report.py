"""``finsync report``: where the latest reconciliation report of a pair is, and what it says."""

from __future__ import annotations

import re
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finsync_dagster.settings import is_pair_name, load_settings


@click.command("report")
@click.option("--pair", "pair_name", help="The pair (default: every pair with a report).")
@click.pass_context
def command(ctx: click.Context, pair_name: str | None) -> None:
    """Print where the latest reconciliation report is, and its summary."""
    from finsync_dagster.reports import latest_report

    settings = load_settings(ctx.obj["config_path"], require_file=False)
    root = settings.home / "reports"
    pairs = (
        [pair_name]
        if pair_name
        else sorted(p.name for p in root.glob("*") if p.is_dir() and is_pair_name(p.name))
    )
    if not pairs:
        raise click.ClickException(f"no reports under {root} yet; run `finsync sync` or `finsync demo` first")
    for pair in pairs:
        paths = latest_report(settings.reports_dir(pair))
        if paths is None:
            raise click.ClickException(
                f"no report for pair {pair!r} yet; run `finsync sync --pair {pair}` first"
            )
        # latest.json is a file anyone who can write under the home could edit: read nothing outside it.
        html, xlsx, directory = (
            str(settings.inside_home(p)) for p in (paths.html, paths.xlsx, paths.directory)
        )
        echo_report(pair, html, xlsx, directory, settings.inside_home(paths.summary))


def echo_report(pair: str, html: str, xlsx: str, directory: str, summary: Path) -> None:
    # Paths go out whole (click.echo), so a terminal can open them and a script can cut them out.
    click.echo(f"pair {pair}: latest reconciliation report")
    click.echo(f"  HTML  {html}")
    click.echo(f"  XLSX  {xlsx}")
    click.echo(f"  CSVs  {directory}")
    click.echo("")
    print_summary(summary.read_text(encoding="utf-8"))


# A table this narrow fits a terminal as written; wider ones (a status per column) are turned.
_NARROW_COLUMNS = 4
# A cell's own pipes are written escaped (``\|``, reports/data.py); only the others separate cells.
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def print_summary(markdown: str) -> None:
    """The report's summary.md on a terminal: its counts as a table, its sentences as text.

    Read from the file rather than recomputed, so the terminal never disagrees with the report.
    """
    console = Console()
    rows: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            rows.append(line)
            continue
        if rows:
            console.print(counts_table(rows))
            rows = []
        if line.startswith("**") and line.endswith("**"):
            console.print(Text(line.strip("*"), style="bold"), soft_wrap=True)
        elif line:
            console.print(Text(line), soft_wrap=True)


def counts_table(rows: list[str]) -> Table:
    """One of the summary's Markdown tables as a terminal table. The counts table (a record type per row,
    a status per column) is turned so that statuses are rows: its long status titles fit a terminal's
    width as rows, not as columns. A narrow table (how records were paired) is shown as it is."""
    cells = [_cells(row) for row in rows]
    header, *body = (row for row in cells if not all(set(cell) <= {"-", ":"} for cell in row))
    table = Table(show_header=True, header_style="bold")
    if len(header) <= _NARROW_COLUMNS:
        for index, title in enumerate(header):
            table.add_column(title, justify="left" if index < 2 else "right")
        for row in body:
            table.add_row(*(Text(cell) for cell in row))  # record text, never rich markup
        return table
    table.add_column("status")
    for row in body:
        table.add_column(row[0], justify="right")
    for index, status in enumerate(header[1:], start=1):
        table.add_row(status, *(row[index] for row in body))
    return table


def _cells(row: str) -> list[str]:
    """The cells of one Markdown table row, with their escaped pipes restored."""
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SEPARATOR.split(inner)]
