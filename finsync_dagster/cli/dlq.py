"""``finsync dlq``: the dead-letter queue, the one place people find every write an API refused.

Letters are grouped by error pattern (the message with ids and numbers blanked), so 300 refusals of one
invalid GL account read as one line. Retry plans the action again (with an edited payload if given);
retrying a letter twice has one effect, because the ledger closes a letter as it plans its action again.
Every retry and resolve is written to the audit log with the operating-system user as its actor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finsync_dagster.cli.options import SINCE, actor, echo_json, open_ledger, utc_text
from finsync_dagster.ledger import Ledger
from finsync_dagster.ledger.operations import LetterGroup, group_id
from finsync_dagster.masking import mask_secrets, mask_text

# What `Ledger.retry_dead` / `resolve_dead` answers, as a person reads it.
_RESULTS = {
    "retried": "planned again; the next push sends it",
    "resolved": "resolved; its action is cancelled and will not be sent",
    "no longer dead": "closed; its action was no longer dead (planned again or superseded), nothing changed",
    "unknown": "no such dead letter",
}


def group_json(group: LetterGroup) -> dict[str, Any]:
    return {
        "group": group.group,
        "pattern": group.pattern,
        "count": group.count,
        "first_seen": utc_text(group.first_seen),
        "last_seen": utc_text(group.last_seen),
        "actions": group.actions,
        "pairs": group.pairs,
        "ids": group.ids,
    }


def letter_json(letter: dict[str, Any]) -> dict[str, Any]:
    """One dead letter as ``dlq show --json`` gives it: request and response parsed, secrets masked."""
    return {
        "id": letter["id"],
        "pair": letter["pair"],
        "action_key": letter["action_key"],
        "action": letter["action"],
        "target": letter["target"],
        "error_class": letter["error_class"],
        "error_code": letter["error_code"],
        "message": mask_text(letter["message"]),
        "pattern": letter["pattern"],
        "group": group_id(letter["pattern"]),
        "request": _parsed(letter["request"]),
        "response": _parsed(letter["response"]),
        "created_at": utc_text(letter["created_at"]),
        "resolved_at": utc_text(letter["resolved_at"]),
        "resolution": letter["resolution"],
        "reason": letter["reason"],
        "resolved_by": letter["resolved_by"],
    }


def _parsed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return mask_secrets(json.loads(text))
    except ValueError:
        return mask_secrets(text)


@click.group("dlq")
def command() -> None:
    """Dead letters: writes an API refused for good, for a person to fix and retry, or resolve."""


@command.command("list")
@click.option("--pair", "pair_name", help="Only this pair.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def list_command(ctx: click.Context, pair_name: str | None, as_json: bool) -> None:
    """Open dead letters grouped by error pattern, the largest group first."""
    _settings, ledger = open_ledger(ctx)
    groups = ledger.dead_letter_groups(pair=pair_name)
    if as_json:
        echo_json({"groups": [group_json(g) for g in groups], "open": sum(g.count for g in groups)})
        return
    console = Console()
    if not groups:
        console.print("no open dead letters" + (f" for pair {pair_name}" if pair_name else ""))
        return
    table = Table(title=f"dead letters: {sum(g.count for g in groups)} open, {len(groups)} patterns")
    for column in ("group", "count", "first seen (UTC)", "last seen (UTC)", "actions", "ids", "pattern"):
        table.add_column(column, justify="right" if column == "count" else "left", overflow="fold")
    for group in groups:
        ids = ", ".join(str(i) for i in group.ids[:8]) + (" ..." if len(group.ids) > 8 else "")
        actions = ", ".join(f"{name} {n}" for name, n in group.actions.items())
        table.add_row(
            group.group, str(group.count), utc_text(group.first_seen), utc_text(group.last_seen), actions, ids,
            Text(mask_text(group.pattern)),
        )  # fmt: skip
    console.print(table)
    console.print("`finsync dlq show ID` shows one; `finsync dlq retry --group G` retries a whole group")


@command.command("show")
@click.argument("letter_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def show_command(ctx: click.Context, letter_id: int, as_json: bool) -> None:
    """One dead letter: the error, the request finsync sent and what the API answered (secrets masked)."""
    _settings, ledger = open_ledger(ctx)
    letter = _letter(ledger, letter_id)
    document = letter_json(letter)
    if as_json:
        echo_json(document)
        return
    console = Console()
    for name in ("id", "pair", "action", "action_key", "target", "error_class", "error_code", "message", "group",
                 "created_at", "resolution", "resolved_at", "resolved_by", "reason"):  # fmt: skip
        if document[name] is not None:
            console.print(Text.assemble((f"{name + ':':<13}", "bold"), str(document[name])), soft_wrap=True)
    for part in ("request", "response"):
        console.print(Text(f"{part}:", style="bold"))
        if document[part] is None:
            console.print("  (not recorded)")
        else:
            console.print_json(data=document[part])
    if document["resolved_at"] is None:
        console.print(
            f"retry with `finsync dlq retry {letter_id} [--payload-file F.json]`, or "
            f"`finsync dlq resolve {letter_id} --reason TEXT`"
        )


def _letter(ledger: Ledger, letter_id: int) -> dict[str, Any]:
    letter = ledger.dead_letter(letter_id)
    if letter is None:
        raise click.ClickException(f"no dead letter {letter_id}; `finsync dlq list` shows the open ones")
    return letter


@command.command("retry")
@click.argument("letter_id", type=int, required=False)
@click.option("--group", "group", help="Retry every open letter of this group (its id or its pattern).")
@click.option(
    "--payload-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Send this JSON object instead of the refused payload (one letter only).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be retried; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def retry_command(
    ctx: click.Context,
    letter_id: int | None,
    group: str | None,
    payload_file: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Plan dead letters' actions again: one ID, or a whole --group. A second retry changes nothing."""
    if (letter_id is None) == (group is None):
        raise click.UsageError("give a dead letter ID or --group G, not both")
    if payload_file is not None and group is not None:
        raise click.UsageError("--payload-file edits one letter's payload; give an ID, not --group")
    payload = _payload(payload_file) if payload_file is not None else None
    _settings, ledger = open_ledger(ctx)
    letters = [_letter(ledger, letter_id)] if letter_id is not None else _group_letters(ledger, group or "")
    results = []
    for letter in letters:
        if dry_run:
            outcome = "would retry" if letter["resolved_at"] is None else f"already {letter['resolution']}"
        else:
            outcome = ledger.retry_dead(letter["id"], by=actor(), payload=payload)
        results.append({"id": letter["id"], "action_key": letter["action_key"], "result": outcome})
    _report(results, as_json=as_json, dry_run=dry_run)


@command.command("resolve")
@click.argument("letter_id", type=int)
@click.option("--reason", required=True, help="Why nothing more will be done (kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def resolve_command(ctx: click.Context, letter_id: int, reason: str, as_json: bool) -> None:
    """Close a dead letter by hand: its action is cancelled and will not be sent."""
    if not reason.strip():
        raise click.UsageError("--reason must say why")
    _settings, ledger = open_ledger(ctx)
    letter = _letter(ledger, letter_id)
    outcome = ledger.resolve_dead(letter_id, reason=reason.strip(), by=actor())
    _report([{"id": letter_id, "action_key": letter["action_key"], "result": outcome}], as_json=as_json)


def _payload(path: Path) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: not JSON ({exc}); fix the file and retry") from None
    if not isinstance(payload, dict):
        raise click.ClickException(f"{path}: the payload must be a JSON object, as `dlq show` prints it")
    return payload


def _group_letters(ledger: Ledger, group: str) -> list[dict[str, Any]]:
    for found in ledger.dead_letter_groups():
        if group in (found.group, found.pattern):
            return [_letter(ledger, letter_id) for letter_id in found.ids]
    raise click.ClickException(
        f"no open dead letters in group {group!r}; `finsync dlq list` shows the groups"
    )


def _report(results: list[dict[str, Any]], *, as_json: bool, dry_run: bool = False) -> None:
    if as_json:
        echo_json({"dry_run": dry_run, "results": results})
        return
    for result in results:
        said = _RESULTS.get(result["result"], result["result"])
        click.echo(f"dead letter {result['id']} (action {result['action_key']}): {said}")


EXPORT_COLUMNS = ("id", "pair", "action_key", "action", "target", "error_class", "error_code", "message", "group",
                  "pattern", "request", "response", "created_at", "resolved_at", "resolution", "reason",
                  "resolved_by")  # fmt: skip


@command.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--pair", "pair_name", help="Only this pair.")
@click.option(
    "--since", type=SINCE, help="Letters from this time: 30m, 2h, 1d, 1w ago, or an ISO time (UTC)."
)
@click.option("--open-only", is_flag=True, help="Leave out resolved and retried letters.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="The file (default dead_letters.<format>)."
)
@click.pass_context
def export_command(
    ctx: click.Context, fmt: str, pair_name: str | None, since: Any, open_only: bool, out: Path | None
) -> None:
    """Write dead letters (request and response masked) to a CSV or XLSX file, safe to open in a spreadsheet."""
    from finsync_dagster.reports.tables import write_table

    _settings, ledger = open_ledger(ctx)
    out = out or Path(f"dead_letters.{fmt}")
    letters = ledger.dead_letters_since(pair=pair_name, since=since, include_resolved=not open_only)
    rows = []
    for letter in letters:
        document = letter_json(letter)
        for part in ("request", "response"):
            if document[part] is not None:
                document[part] = json.dumps(document[part], ensure_ascii=False, sort_keys=True)
        rows.append([document[c] for c in EXPORT_COLUMNS])
    try:
        written = write_table(out, EXPORT_COLUMNS, rows, format=fmt, title="Dead letters")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{written} dead letters written to {out}")
