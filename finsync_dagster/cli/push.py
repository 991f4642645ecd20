"""``finsync push``: plan the writes the latest reconciliation calls for, and push them to both systems.

``--dry-run`` prints the creates and updates per target the push would make, and writes nothing to
either system (nor to the outbox). ``--json`` prints one object for scripts; its keys are stable:

    {"pair": str, "dry_run": bool,
     "actions": [{"key", "action", "target", "verb", "source_id", "stamp", "state"}],
     "summary": {"created", "updated", "waiting", "in_doubt", "dead", "left_for_people"},
     "left_for_people": [{"entity", "source", "id", "reference", "would", "why"}]}

``state`` is the action's outbox state after the push (``would_send`` in a dry run).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from finsync_dagster.cli.sync import connect_sandbox, hold_pair_for_cli, sandbox_option, wait_option
from finsync_dagster.partitions import DEFAULT_PAIR
from finsync_dagster.settings import Settings, load_settings


@click.command("push")
@click.option("--pair", "pair_name", help="The pair to push (default: every pair in finsync.yaml).")
@sandbox_option
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing anywhere.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (stable keys) instead of tables."
)
@wait_option
@click.pass_context
def command(
    ctx: click.Context,
    pair_name: str | None,
    sandbox_dir: Path | None,
    dry_run: bool,
    as_json: bool,
    wait_seconds: float,
) -> None:
    """Plan and push the resolved differences of the latest reconciliation to FreshBooks and M3."""
    settings = load_settings(ctx.obj["config_path"], require_file=sandbox_dir is None)
    if sandbox_dir is not None:
        pair_name = pair_name or DEFAULT_PAIR
    pairs = [pair_name] if pair_name else settings.require_pairs()
    console = Console(stderr=True)
    results = []
    failed = False
    for pair in pairs:
        with hold_pair_for_cli(settings, pair, wait_seconds, console, what="finsync push"):
            if sandbox_dir is not None:
                settings = connect_sandbox(ctx, settings, pair, sandbox_dir)
            if dry_run:
                result = dry_run_pair(settings, pair)
            else:
                result, ok = push_pair(settings, pair, console)
                failed = failed or not ok
        results.append(result)
        if not as_json:
            print_push(result)
    if as_json:
        click.echo(json.dumps(results[0] if len(results) == 1 else results, indent=2, default=str))
    if failed:
        raise click.ClickException("the push run failed; see the messages above")


def dry_run_pair(settings: Settings, pair: str) -> dict[str, Any]:
    import duckdb

    from finsync_dagster.ledger import Ledger
    from finsync_dagster.push.planning import plan_pair, preview

    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    path = settings.warehouse_path(pair)
    if not path.exists():
        raise click.ClickException(
            f"pair {pair} has no warehouse yet; run `finsync sync --pair {pair}` first"
        )
    with duckdb.connect(str(path), read_only=True) as connection:
        planned = plan_pair(connection, settings, ledger, pair)
    intended = preview(ledger, pair, planned)
    actions = [
        {"key": i.key, "action": i.action, "target": i.target, "verb": i.verb, "source_id": i.source_id,
         "stamp": i.stamp, "state": "would_send"}
        for i in intended
    ]  # fmt: skip
    summary = {
        "created": sum(1 for a in actions if a["verb"] == "create"),
        "updated": sum(1 for a in actions if a["verb"] == "update"),
        "waiting": 0,
        "in_doubt": 0,
        "dead": sum(1 for a in planned.actions if "_refused" in a.payload),
        "left_for_people": len(planned.left),
    }
    return {
        "pair": pair,
        "dry_run": True,
        "actions": actions,
        "summary": summary,
        "left_for_people": _left(planned.left),
    }


def push_pair(settings: Settings, pair: str, console: Console) -> tuple[dict[str, Any], bool]:
    from finsync_dagster.instance import instance_for
    from finsync_dagster.ledger import Ledger, utcnow
    from finsync_dagster.pipeline import run_write_back

    instance = instance_for(settings)
    started = utcnow()
    with console.status(f"[bold]{pair}[/]: planning and pushing") as status:
        result = run_write_back(
            settings,
            pair,
            instance=instance,
            on_progress=lambda step: status.update(f"[bold]{pair}[/]: {step}"),
        )
    if result.failure:
        click.echo(f"error: {result.failure}", err=True)
    ledger = Ledger(settings.ledger_url)
    plan_meta = next((a.metadata for a in result.assets if a.key == "writeback/plan"), {})
    return write_back_summary(ledger, pair, since=started, left=plan_meta.get("left_sample") or [],
                              left_count=int(plan_meta.get("left_for_people") or 0)), result.success  # fmt: skip


def write_back_summary(
    ledger: Any, pair: str, *, since: datetime, left: list[dict[str, Any]], left_count: int
) -> dict[str, Any]:
    """Every action the push touched (planned or attempted since ``since``), with its state now."""
    from finsync_dagster.writeback import KINDS

    touched = [a for a in ledger.actions(pair=pair) if a.updated_at >= since]
    actions = [
        {"key": a.key, "action": a.action, "target": a.target,
         "verb": "update" if KINDS[a.action].versioned else "create", "source_id": a.source_id,
         "stamp": a.stamp, "state": str(a.state)}
        for a in touched
    ]  # fmt: skip
    done = [a for a in actions if a["state"] == "done"]
    summary = {
        "created": sum(1 for a in done if a["verb"] == "create"),
        "updated": sum(1 for a in done if a["verb"] == "update"),
        "waiting": sum(1 for a in actions if a["state"] in ("blocked", "retry_wait", "planned")),
        "in_doubt": sum(1 for a in actions if a["state"] == "in_doubt"),
        "dead": sum(1 for a in actions if a["state"] == "dead"),
        "left_for_people": left_count,
    }
    return {"pair": pair, "dry_run": False, "actions": actions, "summary": summary, "left_for_people": left}


def _left(items: list[Any]) -> list[dict[str, Any]]:
    return [
        {"entity": i.entity, "source": i.source_system, "id": i.source_id, "reference": i.reference,
         "would": i.action, "why": i.reason}
        for i in items
    ]  # fmt: skip


def print_push(result: dict[str, Any]) -> None:
    summary = result["summary"]
    verb = "would write" if result["dry_run"] else "wrote"
    title = f"pair {result['pair']}: {verb}"
    table = Table(title=title, title_justify="left")
    for column in ("target", "action", "state", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    counts: dict[tuple[str, str, str], int] = {}
    for action in result["actions"]:
        key = (action["target"], action["action"], action["state"])
        counts[key] = counts.get(key, 0) + 1
    for (target, action, state), n in sorted(counts.items()):
        table.add_row("M3" if target == "infor" else "FreshBooks", action, state, str(n))
    Console().print(table)
    click.echo(
        f"created {summary['created']}, updated {summary['updated']}, waiting {summary['waiting']}, "
        f"in doubt {summary['in_doubt']}, dead-lettered {summary['dead']}, "
        f"left for people {summary['left_for_people']}"
    )
    if summary["dead"]:
        click.echo(f"see `finsync dlq list --pair {result['pair']}` for the refused writes")
    for item in result["left_for_people"][:10]:
        click.echo(f"  left for people: {item['entity']} {item['reference'] or item['id']}: {item['why']}")
