"""The ``finsync`` command line: one group, one module per command.

Errors are one clear line on stderr and exit status 1; ``--debug`` shows the traceback instead. A command's
module is imported only when that command runs (``--help`` imports them all), so ``finsync status`` does not
pay for the imports of ``finsync sync`` or ``finsync mapping``.
"""

from __future__ import annotations

import importlib
import sys

import click

from finsync_dagster import errors
from finsync_dagster.cli import pair_option

__all__ = ["cli", "main"]

# Command name -> the module under finsync_dagster.cli whose ``command`` it is.
_COMMANDS = {
    "status": "status", "sandbox": "sandbox", "connect": "connect", "sync": "sync", "push": "push", "mapping": "mapping",
    "report": "report", "demo": "demo", "outbox": "outbox", "dlq": "dlq", "audit": "audit", "alerts": "alerts",
    "retention": "retention", "users": "users", "console": "console", "webhooks": "webhooks",
    "serve": "serve",
}  # fmt: skip


class _LazyGroup(click.Group):
    """A group whose commands are imported when they are first asked for (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            command = importlib.import_module(f"finsync_dagster.cli.{_COMMANDS[cmd_name]}").command
            pair_option.check_every_pair_option(command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="FINSYNC_CONFIG",
    help="The config file (default ./finsync.yaml, or $FINSYNC_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, config_path: str | None) -> None:
    """finsync keeps a FreshBooks account and an Infor ERP in step."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["config_path"] = config_path


def main(argv: list[str] | None = None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="finsync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debug:
            raise
        prefix = "error" if isinstance(exc, errors.FinsyncError) else f"error ({type(exc).__name__})"
        click.echo(f"{prefix}: {exc}", err=True)
        click.echo("(run with --debug for the traceback)", err=True)
        return 1
    return 0
