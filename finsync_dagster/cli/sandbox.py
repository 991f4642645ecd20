"""``finsync sandbox``: serve the FreshBooks, Infor and shop sandboxes in the foreground until interrupted."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from finsync_dagster.sandbox import SEEDS
from finsync_dagster.sandbox.control_auth import exposure_warning, is_loopback
from finsync_dagster.sandbox.faults import FaultPlan
from finsync_dagster.sandbox.runner import SERVICES, SandboxOptions, start
from finsync_dagster.settings import SANDBOX_FILE


@click.command("sandbox")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where the sandboxes keep state and write sandbox.json.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind. Anything but loopback warns and locks the control plane with a token.",
)
@click.option("--freshbooks-port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--infor-port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--shop-port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--seed", type=click.Choice(SEEDS), default="demo", show_default=True)
@click.option("--scale", type=int, default=None, help="Generate N invoices/orders deterministically.")
@click.option(
    "--faults",
    "fault_spec",
    default=None,
    help="e.g. 'rate=0.2;kinds=500,429,drop;latency_ms=100' (see finsync_dagster/sandbox/faults.py).",
)
@click.option(
    "--only", type=click.Choice(sorted(SERVICES)), multiple=True, help="Serve only these sandboxes."
)
def command(
    directory: Path,
    host: str,
    freshbooks_port: int,
    infor_port: int,
    shop_port: int,
    seed: str,
    scale: int | None,
    fault_spec: str | None,
    only: tuple[str, ...],
) -> None:
    """Run the sandboxes in the foreground; DIR/sandbox.json says where they are once they answer."""
    try:
        faults = FaultPlan.parse(fault_spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    options = SandboxOptions(
        dir=directory.resolve(),
        host=host,
        seed=seed,
        scale=scale,
        faults=faults,
        ports={"freshbooks": freshbooks_port, "infor": infor_port, "shop": shop_port},
    )
    if not is_loopback(host):
        click.secho(exposure_warning(host, str(options.dir / SANDBOX_FILE)), err=True, fg="red", bold=True)
    running = start(options, list(only) or None)
    for name, info in running.info.items():
        url = info.get("api_url") or info.get("base_url")
        click.echo(f"{name:<10} {url}")
    click.echo(f"wrote {running.file}; Ctrl-C stops")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
