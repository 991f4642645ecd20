"""Start the Dagster daemon and webserver, the webhook receiver, the console and (with channels) the alert
loop; wait until each answers; write ``serve.json``; stop them all on SIGTERM or Ctrl-C.

Every child loads the settings from the file :mod:`finsync_dagster.serve.config` writes, and records runs
in the instance ``instance_for`` uses (``$DAGSTER_HOME``, else ``$FINSYNC_HOME/dagster``), so ``finsync
sync`` and ``finsync status`` see the runs the sensors launch.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from finsync_dagster.alerts import channels_from
from finsync_dagster.errors import FinsyncError
from finsync_dagster.instance import instance_for
from finsync_dagster.ledger import Ledger
from finsync_dagster.serve.children import Child, start_child, stop_children
from finsync_dagster.serve.config import write_serve_config
from finsync_dagster.settings import Settings

SERVE_FILE = "serve.json"
READY_SECONDS = 240.0
_WORKSPACE = (
    "load_from:\n  - python_module:\n      module_name: finsync_dagster.definitions\n      attribute: defs\n"
)


class ServeError(FinsyncError):
    """A child of ``finsync serve`` failed to start or stopped by itself."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8787  # the webhook receiver's: the one meant to face the internet
    dagster_port: int = 0
    console_port: int = 0
    poll_seconds: int | None = None
    register_pair: str | None = None  # the sandbox pair whose callbacks are registered and verified


def serve(settings: Settings, options: ServeOptions, *, say: Callable[[str], None] = print) -> int:
    """Run until told to stop; 0 when stopped by a signal, 1 when a child stopped by itself."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGTERM, signal.SIGINT)}
    state = settings.home / "serve"
    children: list[Child] = []
    try:
        instance_for(settings).dispose()  # creates the instance and sets DAGSTER_HOME for the children
        config = write_serve_config(settings, state / "finsync.yaml", poll_seconds=options.poll_seconds)
        workspace = state / "workspace.yaml"
        workspace.write_text(_WORKSPACE, encoding="utf-8")
        env = {**os.environ, "FINSYNC_CONFIG": str(config), "FINSYNC_HOME": str(settings.home)}
        ports = {
            "webhooks": options.port or _free_port(options.host),
            "dagster": options.dagster_port or _free_port(options.host),
            "console": options.console_port or _free_port(options.host),
        }
        urls = {name: f"http://{options.host}:{port}" for name, port in ports.items()}
        for name, argv in _commands(settings, options, ports, workspace).items():
            children.append(start_child(name, argv, env=env, logs=state / "logs", cwd=state))
        say(f"starting {', '.join(child.name for child in children)} (logs in {state / 'logs'})")
        _wait_until_ready(children, urls, stop)
        if options.register_pair is not None and not stop.is_set():
            _register(settings, options.register_pair, urls["webhooks"], env, say)
        document = {
            "pid": os.getpid(),
            "webhook_url": urls["webhooks"],
            "dagster_url": urls["dagster"],
            "console_url": urls["console"],
            "children": {child.name: child.pid for child in children},
            "config": str(config),
        }
        (settings.home / SERVE_FILE).write_text(json.dumps(document, indent=2), encoding="utf-8")
        say(f"webhooks {urls['webhooks']}  dagster {urls['dagster']}  console {urls['console']}")
        say("sensors and schedules running; Ctrl-C stops")
        while not stop.wait(1.0):
            dead = [child for child in children if not child.alive()]
            if dead:
                raise ServeError(f"{dead[0].name} stopped by itself:\n{dead[0].tail()}")
        return 0
    finally:
        say("stopping")
        stop_children(children)
        (settings.home / SERVE_FILE).unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _commands(
    settings: Settings, options: ServeOptions, ports: dict[str, int], workspace: Path
) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    finsync = [sys.executable, "-m", "finsync_dagster.cli"]
    commands = {
        "webhooks": [*finsync, "webhooks", "serve", "--host", options.host, "--port", str(ports["webhooks"])],
        "dagster-daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)],
        "dagster-webserver": [
            str(bin_dir / "dagster-webserver"), "-w", str(workspace), "-h", options.host, "-p", str(ports["dagster"]),
        ],
        "console": [*finsync, "console", "--host", options.host, "--port", str(ports["console"]),
                    "--dagster-url", f"http://{options.host}:{ports['dagster']}"],
    }  # fmt: skip
    if channels_from(settings.alerts, os.environ, config_path=str(settings.config_path)):
        commands["alerts"] = [*finsync, "alerts", "run"]
    return commands


def _wait_until_ready(children: list[Child], urls: dict[str, str], stop: threading.Event) -> None:
    probes = {
        "webhooks": f"{urls['webhooks']}/healthz",
        "dagster-webserver": f"{urls['dagster']}/server_info",
        "console": f"{urls['console']}/",
    }
    waiting = dict(probes)
    deadline = time.monotonic() + READY_SECONDS
    while waiting and not stop.is_set():
        for child in children:
            if not child.alive():
                raise ServeError(f"{child.name} stopped while starting:\n{child.tail()}")
        for name, url in list(waiting.items()):
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    del waiting[name]
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise ServeError(f"not answering after {READY_SECONDS:.0f} s: {', '.join(waiting)}")
        stop.wait(0.5)


def _register(
    settings: Settings, pair: str, webhook_url: str, env: dict[str, str], say: Callable[[str], None]
) -> None:
    """Register the pair's callbacks at the running receiver, and insist that FreshBooks verified them."""
    argv = [sys.executable, "-m", "finsync_dagster.cli", "webhooks", "register", "--pair", pair,
            "--url", webhook_url, "--wait", "30"]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ServeError(f"registering the callbacks of pair {pair!r} failed:\n{done.stderr[-2000:]}")
    callbacks = Ledger(settings.ledger_url).webhook_callbacks(pair=pair)
    unverified = [c.event for c in callbacks if c.url.startswith(webhook_url) and not c.verified]
    if unverified or not callbacks:
        raise ServeError(
            f"callbacks of pair {pair!r} not verified: {', '.join(unverified) or 'none registered'}"
        )
    say(f"pair {pair}: {len(callbacks)} FreshBooks callback(s) registered and verified")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _setter(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return handler
