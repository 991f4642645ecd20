"""Serving the console in a background thread: for ``finsync serve`` (beside Dagster) and for tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


@dataclass
class RunningConsole:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, root_path: str = "") -> RunningConsole:
    """Serve ``app`` on ``host:port`` (0 picks a free port), under ``root_path`` when a proxy strips one;
    returns once it answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        root_path=root_path.rstrip("/"),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="finsync-console", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the console did not start within 30 s")
        time.sleep(0.02)
    return RunningConsole(f"http://{host}:{bound}", server, thread)


@contextmanager
def running_console(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, root_path: str = ""
) -> Iterator[RunningConsole]:
    running = start(app, host=host, port=port, root_path=root_path)
    try:
        yield running
    finally:
        running.stop()
