"""``finsync connect infor``: prove a pair's ``.ionapi`` credentials work and keep the token in the ledger.

It asks the gateway for a fresh token, makes one cheap MI call (``CRS610MI/LstByNumber``, one record)
in the pair's company/division, and leaves the token in the ledger's token store for the next run. It
prints where it connected, never a secret.
"""

from __future__ import annotations

from pathlib import Path

import click

from finsync_dagster.errors import ConfigError
from finsync_dagster.partitions import DEFAULT_PAIR
from finsync_dagster.settings import PairConfig, Settings, load_settings


@click.command("infor")
@click.option("--pair", "pair_name", help="The pair in finsync.yaml (default: the only one with Infor).")
@click.option(
    "--sandbox",
    "sandbox_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Use the sandbox serving from DIR (its sandbox.json) instead of finsync.yaml.",
)
@click.pass_context
def command(ctx: click.Context, pair_name: str | None, sandbox_dir: Path | None) -> None:
    """Verify the Infor ION API credentials of a pair and store its token in the ledger."""
    config_path = ctx.obj.get("config_path") if ctx.obj else None
    settings, pair_name = _settings_and_pair(config_path, pair_name, sandbox_dir)
    # Imported here: authlib warns on import, and `finsync --help` should not.
    from finsync_dagster.resources.pair_clients import PairClients

    clients = PairClients.of(settings)
    resource = clients.infor_resource(pair_name, revoke_on_close=False)
    credentials = resource.load_credentials()
    with resource.get_client(clients.get_ledger()) as m3:
        m3.session.authenticate(force=True)
        m3.verify_access()
        expires_at = m3.session.token_expires_at
    division = f"/{resource.division}" if resource.division else ""
    click.echo(
        f"infor: connected pair {pair_name!r} to tenant {credentials.tenant} "
        f"(company {resource.company}{division}) at {credentials.gateway_url}"
    )
    expiry = f", expires {expires_at:%Y-%m-%d %H:%M:%S} UTC" if expires_at else ""
    click.echo(f"token stored in the ledger{expiry}")


def _settings_and_pair(
    config_path: str | None, pair_name: str | None, sandbox_dir: Path | None
) -> tuple[Settings, str]:
    if sandbox_dir is not None:
        settings = load_settings(config_path, require_file=False)
        pair = PairConfig(name=pair_name or DEFAULT_PAIR, sandbox_dir=str(sandbox_dir.resolve()))
        return settings.with_pair(pair), pair.name
    settings = load_settings(config_path)
    if pair_name is not None:
        return settings, pair_name
    candidates = [p.name for p in settings.pairs if p.infor is not None or p.sandbox_dir is not None]
    if len(candidates) != 1:
        listed = ", ".join(candidates) or "none"
        raise ConfigError(f"{settings.config_path}: name the pair with --pair (pairs with Infor: {listed})")
    return settings, candidates[0]
