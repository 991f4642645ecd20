"""``finsync connect``: authorize finsync against each system and keep the tokens in the ledger."""

from __future__ import annotations

import importlib
import importlib.util

import click


@click.group("connect")
def command() -> None:
    """Connect a pair's FreshBooks account or Infor tenant (tokens go to the ledger's token store)."""


# Each system's connect command lives beside its client; they land independently.
for _name in ("finsync_dagster.cli.connect_freshbooks", "finsync_dagster.cli.connect_infor"):
    if importlib.util.find_spec(_name):
        command.add_command(importlib.import_module(_name).command)
