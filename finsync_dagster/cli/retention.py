"""``finsync retention prune``: remove the history the ``retention:`` policy of finsync.yaml no longer keeps.

The default policy keeps everything for ever. Open dead letters and inbox deliveries not yet processed are
never pruned, whatever their age; the outbox and the crosswalk are state, not history, and stay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from finsync_dagster.cli.options import actor, echo_json, open_ledger, utc_text


@click.group("retention")
def command() -> None:
    """How long the ledger keeps its history (finsync.yaml `retention:`)."""


@command.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts (a stable shape).")
@click.pass_context
def prune_command(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Delete audit entries, resolved dead letters and processed inbox rows older than the policy keeps."""
    settings, ledger = open_ledger(ctx)
    policy = settings.retention
    now = datetime.now(UTC)

    def before(days: int | None) -> datetime | None:
        return None if days is None else now - timedelta(days=days)

    cut = {
        "audit_log": before(policy.audit_days),
        "dead_letters": before(policy.dead_letters_resolved_days),
        "inbox": before(policy.inbox_processed_days),
    }
    pruned = ledger.prune(
        audit_before=cut["audit_log"],
        resolved_dead_letters_before=cut["dead_letters"],
        processed_inbox_before=cut["inbox"],
        dry_run=dry_run,
    )
    removed = {"audit_log": pruned.audit_log, "dead_letters": pruned.dead_letters, "inbox": pruned.inbox}
    if not dry_run and any(removed.values()):
        for table, n in removed.items():
            if n:
                ledger.audit(
                    pair="*", call=f"retention prune {table}", outcome="pruned", actor=actor(),
                    error=f"{n} rows before {utc_text(cut[table])}",
                )  # fmt: skip
    if as_json:
        echo_json(
            {
                "dry_run": dry_run,
                "tables": {
                    table: {"before": utc_text(cut[table]), "rows": removed[table] if cut[table] else 0}
                    for table in removed
                },
            }
        )
        return
    verb = "would remove" if dry_run else "removed"
    for table, cutoff in cut.items():
        if cutoff is None:
            click.echo(f"{table}: kept for ever (no retention set)")
        else:
            click.echo(f"{table}: {verb} {removed[table]} rows older than {utc_text(cutoff)}")
