"""``finsync connect``: authorize finsync against each system and keep the tokens in the ledger."""

from __future__ import annotations

import click

from finsync_dagster.cli import connect_freshbooks, connect_infor


@click.group("connect")
def command() -> None:
    """Connect a pair's FreshBooks account or Infor tenant (tokens go to the ledger's token store)."""


command.add_command(connect_freshbooks.command)
command.add_command(connect_infor.command)
