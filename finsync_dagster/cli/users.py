"""``finsync users``: who may sign in to the console, and with which role."""

from __future__ import annotations

import sys

import click

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Ledger, Role
from finsync_dagster.settings import load_settings

ROLES = [r.value for r in Role]


def _ledger(ctx: click.Context) -> Ledger:
    settings = load_settings(ctx.obj["config_path"], require_file=False)
    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    return ledger


@click.group("users")
def command() -> None:
    """Console users and their roles: viewer (reads), reviewer (decides), admin (also saves mapping specs)."""


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (one line) instead of asking for it twice.",
)
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a user who signs in to the console with a password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise ConfigError("no password given")
    user = _ledger(ctx).add_user(name, Role(role), password, by="finsync users add")
    click.echo(f"added {user.name} ({user.role})")


@command.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """List the users, their roles and when they were added."""
    users = _ledger(ctx).users()
    if not users:
        click.echo("no users yet: add one with `finsync users add NAME --role admin`")
        return
    for user in users:
        click.echo(f"{user.name:<24} {user.role:<9} added {user.created_at:%Y-%m-%d %H:%M} UTC")


@command.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove a user; their open sessions end at once."""
    if not _ledger(ctx).remove_user(name):
        raise ConfigError(f"no user named {name!r} (see `finsync users list`)")
    click.echo(f"removed {name}")
