"""Serve the sandboxes (on loopback unless told otherwise) and tell callers where they are.

Each sandbox is a :class:`SandboxService`: given its own base URL and the options, it builds an ASGI app
and the connection details a caller needs. The runner binds a socket per service (port 0 picks a free
one), serves every app with uvicorn in a thread, waits until each answers, and only then writes
``DIR/sandbox.json`` (mode 0600: it holds the local apps' secrets and the control token) with one
section per service. Off loopback the control plane needs that token (``control_auth.py``).
``finsync sandbox`` runs it in the foreground; tests, benchmarks and the demo use
:func:`running_sandboxes`.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import uvicorn
from starlette.types import ASGIApp

from finsync_dagster.sandbox.control_auth import TOKEN_KEY, ControlTokenMiddleware, is_loopback, new_token
from finsync_dagster.sandbox.faults import FaultPlan
from finsync_dagster.settings import SANDBOX_FILE

# name -> "module:attribute" of a SandboxService, imported only when served, so that serving one sandbox
# never imports the other.
SERVICES: dict[str, str] = {
    "freshbooks": "finsync_dagster.sandbox.freshbooks:service",
    "infor": "finsync_dagster.sandbox.infor:service",
    "shop": "finsync_dagster.sandbox.shop:service",
}


@dataclass(frozen=True)
class SandboxOptions:
    dir: Path
    host: str = "127.0.0.1"
    seed: str = "demo"
    scale: int | None = None
    faults: FaultPlan = field(default_factory=FaultPlan)
    ports: dict[str, int] = field(default_factory=dict)


@dataclass
class BuiltSandbox:
    """What a service hands the runner: the app to serve and its section of sandbox.json."""

    app: ASGIApp
    info: dict[str, Any]
    state: Any = None
    # uvicorn's HTTP implementation; "h11" writes header names in the case the app gives them (httptools,
    # the "auto" choice when installed, lowercases them).
    http: str = "auto"


class SandboxService(Protocol):
    name: str

    def build(self, *, base_url: str, options: SandboxOptions) -> BuiltSandbox: ...


@dataclass
class RunningSandboxes:
    dir: Path
    info: dict[str, dict[str, Any]]
    built: dict[str, BuiltSandbox]
    control_token: str = ""
    servers: list[uvicorn.Server] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def file(self) -> Path:
        return self.dir / SANDBOX_FILE

    def state(self, name: str) -> Any:
        return self.built[name].state

    def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True
        for thread in self.threads:
            thread.join(timeout=10)


def load_service(name: str) -> SandboxService:
    module_name, _, attribute = SERVICES[name].partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def start(options: SandboxOptions, names: Sequence[str] | None = None) -> RunningSandboxes:
    """Start the named sandboxes (default: all) and return once every one answers."""
    names = list(names or SERVICES)
    options.dir.mkdir(parents=True, exist_ok=True)
    running = RunningSandboxes(dir=options.dir, info={}, built={}, control_token=new_token())
    guarded = not is_loopback(options.host)
    try:
        for name in names:
            service = load_service(name)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((options.host, options.ports.get(name, 0)))
            port = sock.getsockname()[1]
            built = service.build(base_url=f"http://{options.host}:{port}", options=options)
            app = ControlTokenMiddleware(built.app, token=running.control_token) if guarded else built.app
            config = uvicorn.Config(
                app,
                http=built.http,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=30,
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{name}", daemon=True
            )
            thread.start()
            running.servers.append(server)
            running.threads.append(thread)
            running.built[name] = built
            running.info[name] = {**built.info, TOKEN_KEY: running.control_token}
        deadline = time.monotonic() + 30
        while not all(server.started for server in running.servers):
            if time.monotonic() > deadline:
                raise RuntimeError("sandboxes did not start within 30 s")
            time.sleep(0.02)
    except BaseException:
        running.stop()
        raise
    _write_private(running.file, json.dumps(running.info, indent=2, sort_keys=True))
    return running


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only, atomically: readers never see half a file."""
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover tmp file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)


@contextmanager
def running_sandboxes(
    options: SandboxOptions, names: Sequence[str] | None = None
) -> Iterator[RunningSandboxes]:
    running = start(options, names)
    try:
        yield running
    finally:
        running.stop()
