"""``finsync outbox``: the planned writes, their state and their history.

``--json`` output is for scripts and keeps its shape (README, "Outbox, dead letters and audit"); the
tables are for people. Secrets are masked in both (:mod:`finsync_dagster.masking`).
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finsync_dagster.cli.options import echo_json, open_ledger, utc_text
from finsync_dagster.ledger import Action, Ledger, State
from finsync_dagster.ledger.outbox import FINISHED_STATES
from finsync_dagster.masking import mask_secrets, mask_text

_STATES = [state.value for state in State]
DEFAULT_LIMIT = 500


def action_json(action: Action) -> dict[str, Any]:
    """One action as ``outbox list --json`` gives it."""
    return {
        "key": action.key,
        "pair": action.pair,
        "action": action.action,
        "target": action.target,
        "entity": action.entity,
        "source_system": action.source_system,
        "source_id": action.source_id,
        "source_version": action.source_version,
        "state": action.state.value,
        "attempts": action.attempts,
        "depends_on": action.depends_on,
        "target_id": action.target_id,
        "next_attempt_at": utc_text(action.next_attempt_at),
        "last_error": None if action.last_error is None else mask_text(action.last_error),
        "last_error_class": action.last_error_class,
        "planned_at": utc_text(action.planned_at),
        "updated_at": utc_text(action.updated_at),
        "done_at": utc_text(action.done_at),
    }


def audit_json(entry: dict[str, Any]) -> dict[str, Any]:
    """One audit entry as ``finsync audit --json`` and ``outbox show --json`` give it."""
    return {
        "id": entry["id"],
        "at": utc_text(entry["at"]),
        "pair": entry["pair"],
        "action_key": entry["action_key"],
        "action": entry["action"],
        "target": entry["target"],
        "call": entry["call"],
        "step": entry["step"],
        "target_id": entry["target_id"],
        "outcome": entry["outcome"],
        "error": None if entry["error"] is None else mask_text(entry["error"]),
        "latency_ms": entry["latency_ms"],
        "attempt": entry["attempt"],
        "actor": entry["actor"],
    }


@click.group("outbox")
def command() -> None:
    """The writes finsync planned for FreshBooks and M3, and what became of them."""


@command.command("list")
@click.option("--pair", "pair_name", help="Only this pair.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([*_STATES, "all"]),
    help="Only actions in this state (repeatable; default: every state but done and cancelled).",
)
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def list_command(
    ctx: click.Context, pair_name: str | None, states: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """List planned writes, oldest first."""
    _settings, ledger = open_ledger(ctx)
    wanted = None if "all" in states else list(states) or [s for s in _STATES if s not in FINISHED_STATES]
    actions = ledger.actions(pair=pair_name, states=wanted, limit=limit)
    counts = ledger.outbox_counts(pair_name)
    total = sum(n for state, n in counts.items() if wanted is None or state in wanted)
    if as_json:
        echo_json({"actions": [action_json(a) for a in actions], "total": total, "counts": counts})
        return
    table = Table(title=f"outbox: {total} actions" + (f" of pair {pair_name}" if pair_name else ""))
    for column in ("key (start)", "pair", "action", "state", "attempts", "next attempt", "last error"):
        table.add_column(column, justify="right" if column == "attempts" else "left", overflow="fold")
    for action in actions:
        table.add_row(
            action.key[:10],
            action.pair,
            action.action,
            action.state.value,
            str(action.attempts),
            utc_text(action.next_attempt_at) or "",
            Text(mask_text(action.last_error or "")[:120]),
        )
    console = Console()
    console.print(table)
    if total > len(actions):
        console.print(f"{total - len(actions)} more not shown (--limit, --state, --pair)")
    console.print("counts: " + (", ".join(f"{s} {n}" for s, n in sorted(counts.items())) or "empty"))


@command.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def show_command(ctx: click.Context, key: str, as_json: bool) -> None:
    """Show one action (KEY, or the first characters of it) with its payload and its calls."""
    _settings, ledger = open_ledger(ctx)
    action = find_action(ledger, key)
    calls = ledger.audit_entries(action_keys=[action.key])
    document = {
        **action_json(action),
        "stamp": action.stamp,
        "payload": mask_secrets(action.payload),
        "progress": mask_secrets(action.progress),
        "lease_owner": action.lease_owner,
        "audit": [audit_json(entry) for entry in calls],
    }
    if as_json:
        echo_json(document)
        return
    console = Console()
    for name in ("key", "pair", "action", "target", "entity", "source_system", "source_id", "source_version",
                 "stamp", "state", "attempts", "depends_on", "target_id", "next_attempt_at", "last_error_class",
                 "last_error", "planned_at", "updated_at", "done_at"):  # fmt: skip
        value = document[name]
        if value is not None:
            console.print(Text.assemble((f"{name + ':':<17}", "bold"), str(value)), soft_wrap=True)
    console.print(Text("payload:", style="bold"))
    console.print_json(data=document["payload"])
    if document["progress"]:
        console.print(Text("progress:", style="bold"))
        console.print_json(data=document["progress"])
    if calls:
        table = Table(title="calls (audit log)", title_justify="left")
        for column in ("at (UTC)", "call", "step", "outcome", "target id", "ms", "attempt", "actor", "error"):
            table.add_column(column, overflow="fold")
        for entry in document["audit"]:
            table.add_row(
                entry["at"], entry["call"], entry["step"] or "", entry["outcome"], entry["target_id"] or "",
                str(entry["latency_ms"] or ""), str(entry["attempt"] or ""), entry["actor"] or "",
                Text(entry["error"] or ""),
            )  # fmt: skip
        console.print(table)


def find_action(ledger: Ledger, key: str) -> Action:
    """The one action whose key is ``key`` or starts with it; a clear error when none or several do."""
    exact = ledger.action(key)
    if exact is not None:
        return exact
    found = ledger.find_actions(key)
    if not found:
        raise click.ClickException(f"no action with a key starting {key!r}; `finsync outbox list` shows them")
    if len(found) > 1:
        keys = ", ".join(a.key for a in found[:5])
        raise click.ClickException(f"{key!r} starts {len(found)} keys ({keys}...); type more of it")
    return found[0]
