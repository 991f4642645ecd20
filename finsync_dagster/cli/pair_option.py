"""The one pair-name check, given to every ``--pair`` option of every ``finsync`` subcommand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from finsync_dagster.errors import ConfigError
from finsync_dagster.settings import check_pair_name


def _pair_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_pair_name(value)
    except ConfigError as error:
        raise click.BadParameter(str(error)) from None


def _checked_first(
    callback: Callable[[click.Context, click.Parameter, Any], Any] | None,
) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """The pair-name check, then the option's own callback if it has one."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        value = _pair_name(ctx, param, value)
        return callback(ctx, param, value) if callback else value

    return check


def check_every_pair_option(command: click.Command) -> None:
    """Give every ``--pair`` option, in every subcommand, the one pair-name check of the settings.

    Done as each command is loaded (``cli._LazyGroup``), so a command added later cannot forget it: a name
    is checked before any command turns it into a path.
    """
    for param in command.params:
        if "--pair" in param.opts:
            param.callback = _checked_first(param.callback)
    for sub in getattr(command, "commands", {}).values():
        check_every_pair_option(sub)
