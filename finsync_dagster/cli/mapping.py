"""``finsync mapping``: check the mapping specs, preview what they make of staged data, suggest new ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import duckdb
from rich.console import Console
from rich.table import Table

from finsync_dagster.errors import MappingError
from finsync_dagster.mapping.engine import check_data, preview
from finsync_dagster.mapping.registry import SPECS_DIR, load_specs, parse_all, specs_for
from finsync_dagster.mapping.spec import SpecError
from finsync_dagster.mapping.suggest import draft_spec, suggest
from finsync_dagster.mapping.suggest.profile import profile_table
from finsync_dagster.mapping.targets import source_schema_of, target_schema_of
from finsync_dagster.mapping.validate import check_spec
from finsync_dagster.settings import load_settings

_specs_option = click.option(
    "--specs",
    "specs_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=SPECS_DIR,
    show_default="the package's specs",
    help="Directory of mapping specs.",
)
_pair_option = click.option("--pair", "pair_name", help="Read the pair's warehouse (default: the only pair).")
_warehouse_option = click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A DuckDB warehouse file to read instead of the pair's.",
)


@click.group("mapping")
def command() -> None:
    """Declarative mapping specs between staging, the core model and both APIs."""


def _warehouse_path(ctx: click.Context, pair_name: str | None, warehouse: Path | None) -> Path | None:
    if warehouse is not None:
        return warehouse
    settings = load_settings(ctx.obj["config_path"], require_file=False)
    if pair_name is None and len(settings.pair_names) == 1:
        pair_name = settings.pair_names[0]
    if pair_name is None:
        return None
    settings.pair(pair_name)
    path = settings.warehouse_path(pair_name)
    return path if path.exists() else None


def _overlay(ctx: click.Context) -> Path | None:
    """The team's own specs folder from finsync.yaml (``mapping.specs_dir``), if any."""
    return load_settings(ctx.obj["config_path"], require_file=False).specs_overlay


@contextmanager
def _connection(path: Path | None) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if path is None:
        yield None
        return
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


@command.command("check")
@_specs_option
@_pair_option
@_warehouse_option
@click.pass_context
def check(ctx: click.Context, specs_dir: Path, pair_name: str | None, warehouse: Path | None) -> None:
    """Validate every spec (the team's own too, `mapping.specs_dir`); against the warehouse's data too."""
    path = _warehouse_path(ctx, pair_name, warehouse)
    overlay = _overlay(ctx)
    specs, problems = parse_all(specs_dir, overlay)
    with _connection(path) as con:
        for spec in specs:
            problems += check_data(spec, con) if con is not None else check_spec(spec)
    if problems:
        raise SpecError(problems)
    where = f"against {path}" if path else "offline (no warehouse: data checks skipped)"
    for spec in specs:
        shown = spec.path.relative_to(specs_dir) if spec.path.is_relative_to(specs_dir) else spec.path
        click.echo(f"ok  {shown}  {spec}")
    click.echo(f"{len(specs)} specs valid, {where}")


@command.command("preview")
@click.argument("entity")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 1000), help="Records per spec.")
@_specs_option
@_pair_option
@_warehouse_option
@click.pass_context
def preview_command(
    ctx: click.Context,
    entity: str,
    limit: int,
    specs_dir: Path,
    pair_name: str | None,
    warehouse: Path | None,
) -> None:
    """Show source records of ENTITY (a core entity, M3 transaction or spec name) beside what they become."""
    path = _warehouse_path(ctx, pair_name, warehouse)
    if path is None:
        raise MappingError("preview needs staged data: give --pair or --warehouse (run `finsync sync` first)")
    console = Console()
    with _connection(path) as con:
        assert con is not None
        for spec in specs_for(load_specs(specs_dir, con, overlay=_overlay(ctx)), entity):
            table = Table(title=f"{spec}  [{spec.path.name}]", show_lines=True)
            table.add_column(spec.source)
            table.add_column(str(spec.target))
            for source, mapped, errors in preview(spec, con, limit):
                left = "\n".join(f"{k}: {v}" for k, v in source.items())
                right = (
                    "\n".join(f"{k}: {v}" for k, v in mapped.items())
                    if mapped
                    else f"[red]rejected[/]: {errors}"
                )
                table.add_row(left, right)
            console.print(table)


@command.command("suggest")
@click.option(
    "--source",
    "source_table",
    required=True,
    help="A staging or core table, e.g. staging.freshbooks_clients.",
)
@click.option(
    "--target", "target_text", required=True, help="PROGRAM/TRANSACTION, core.ENTITY or freshbooks.RESOURCE."
)
@click.option(
    "--write",
    "write_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the draft spec here.",
)
@_pair_option
@_warehouse_option
@click.pass_context
def suggest_command(
    ctx: click.Context,
    source_table: str,
    target_text: str,
    write_path: Path | None,
    pair_name: str | None,
    warehouse: Path | None,
) -> None:
    """Propose field pairs (target, source, confidence, reason), offline; profiles values when data exists."""
    target_ref, target = target_schema_of(target_text)
    path = _warehouse_path(ctx, pair_name, warehouse)
    with _connection(path) as con:
        source, live = source_schema_of(con, source_table)
        profiles = profile_table(con, source_table, source) if con is not None and live else None
    suggestions = suggest(source, target, profiles)
    basis = (
        "names, descriptions and value profiles" if profiles else "names and descriptions (no staged data)"
    )
    click.echo(f"# {source_table} -> {target_text}: {len(suggestions)} suggestions from {basis}")
    click.echo(f"# {'target':<20}    {'source':<24} conf  reason")
    for suggestion in suggestions:
        click.echo(f"  {suggestion.line()}")
    unmatched = [name for name in target.required if name not in {s.target for s in suggestions}]
    if unmatched:
        click.echo(f"# required and unmatched: {', '.join(unmatched)}")
    if write_path is not None:
        write_path.write_text(
            draft_spec(source_table, target_ref, suggestions, target.required), encoding="utf-8"
        )
        click.echo(f"# draft spec written to {write_path}")
