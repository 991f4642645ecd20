"""``finsync connect freshbooks``: the OAuth authorization-code flow, tokens kept in the ledger.

A person opens the printed URL, approves, and pastes back the URL they were redirected to (or just its
``code``). With ``--sandbox DIR`` the sandbox's authorize page approves by itself and the flow completes
without a browser.
"""

from __future__ import annotations

from pathlib import Path

import click

from finsync_dagster.errors import ConfigError
from finsync_dagster.partitions import DEFAULT_PAIR
from finsync_dagster.settings import PairConfig, Settings, load_settings


@click.command("freshbooks")
@click.option("--pair", "pair_name", help="The pair to connect (default: the only pair declared).")
@click.option(
    "--sandbox",
    "sandbox_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Connect to the sandbox whose sandbox.json is in DIR, approving automatically.",
)
@click.pass_context
def command(ctx: click.Context, pair_name: str | None, sandbox_dir: Path | None) -> None:
    """Authorize finsync for a pair's FreshBooks account and store its tokens in the ledger."""
    # Imported here so that every other `finsync` command starts without authlib (and its warning).
    from finsync_dagster.resources.freshbooks import oauth
    from finsync_dagster.resources.pair_clients import PairClients

    settings = load_settings((ctx.obj or {}).get("config_path"), require_file=sandbox_dir is None)
    if sandbox_dir is not None:
        pair_name = pair_name or DEFAULT_PAIR
        settings = settings.with_pair(PairConfig(name=pair_name, sandbox_dir=str(sandbox_dir.resolve())))
    clients = PairClients.of(settings)
    ledger = clients.get_ledger()
    resource = clients.freshbooks_resource(pair_name or _only_pair(settings))
    app = resource.oauth_app()
    state = oauth.new_state()
    url = oauth.authorization_url(app, state=state)
    if sandbox_dir is not None:
        redirected = oauth.follow_authorize(url, policy=resource.policy())
    else:
        click.echo("Open this URL, log in to FreshBooks and approve finsync:\n")
        click.echo(f"  {url}\n")
        redirected = click.prompt("Paste the URL you were sent to (or just its code)")
    code = oauth.code_from_redirect(redirected, state=state)
    tokens = oauth.exchange_code(app, code, policy=resource.policy())
    stored = resource.token_keeper(ledger).store(tokens)
    with resource.get_client(ledger) as client:
        identity = client.me()
    click.echo(f"connected {resource.token_key!r} as {identity.email or identity.identity_id}")
    for business in identity.businesses:
        marker = "*" if business.account_id == resource.account_id else " "
        click.echo(
            f" {marker} {business.name} (account_id {business.account_id}, business_id {business.business_id})"
        )
    if identity.business_for(resource.account_id) is None:
        click.echo(
            f"warning: account_id {resource.account_id!r} is not among this login's businesses; "
            "fix the pair's account_id",
            err=True,
        )
    expiry = stored.expires_at.isoformat(timespec="seconds") if stored.expires_at else "unknown"
    click.echo(f"tokens stored in the ledger at {ledger.safe_url} (access token expires {expiry})")


def _only_pair(settings: Settings) -> str:
    if len(settings.pairs) == 1:
        return settings.pairs[0].name
    known = ", ".join(settings.pair_names) or "none"
    raise ConfigError(f"name the pair to connect with --pair (pairs declared: {known})")
