"""``finsync report``: where the latest reconciliation report of a pair is, and what it says."""

from __future__ import annotations

from pathlib import Path

import click

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
    click.echo(f"pair {pair}: latest reconciliation report")
    click.echo(f"  HTML  {html}")
    click.echo(f"  XLSX  {xlsx}")
    click.echo(f"  CSVs  {directory}")
    click.echo("")
    click.echo(summary.read_text(encoding="utf-8"))
