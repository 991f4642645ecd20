"""The ``finsync`` command line: one group, one module per command.

Errors are one clear line on stderr and exit status 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from finsync_dagster import errors
from finsync_dagster.cli import connect, demo, mapping, pair_option, push, report, sandbox, status, sync

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for _module in (status, sandbox, connect, sync, push, mapping, report, demo):
    cli.add_command(_module.command)
pair_option.check_every_pair_option(cli)


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
