"""Running the receiver: its ledger opened durably, its endpoints from the settings, uvicorn on a socket.

The receiver is the only finsync process meant to face the internet, so it runs alone (one uvicorn
worker, no Dagster) and holds only what it needs: the pairs' account ids, the shop secrets, and the
ledger. While it runs, ``$FINSYNC_HOME/webhooks.json`` says where it listens, so ``finsync webhooks
register`` on the same machine can find it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsync_dagster.ledger import Ledger, durability, make_engine
from finsync_dagster.settings import Settings
from finsync_dagster.webhooks.app import Limits, Receiver, build_app
from finsync_dagster.webhooks.endpoints import endpoints_of
from finsync_dagster.webhooks.handshake import Handshakes, VerifyAtProvider
from finsync_dagster.webhooks.metrics import ReceiverMetrics
from finsync_dagster.webhooks.verifiers import Verifiers
from finsync_dagster.webhooks.writer import GroupCommitWriter

STATE_FILE = "webhooks.json"
MAX_BATCH = 500


@dataclass(frozen=True)
class Listening:
    """Where the receiver answers: its base URL and each pair's endpoint URLs, by (pair, system)."""

    url: str
    durability: str
    endpoints: dict[tuple[str, str], str]


def open_durable_ledger(url: str) -> tuple[Ledger, str]:
    """The ledger with every commit synced (SQLite ``synchronous=FULL`` in WAL mode); refused otherwise."""
    ledger = Ledger(url, engine=make_engine(url, synchronous="FULL"))
    ledger.migrate()
    return ledger, durability(ledger.engine)


def build_receiver(
    settings: Settings,
    ledger: Ledger,
    described: str,
    *,
    max_batch: int = MAX_BATCH,
    limits: Limits | None = None,
    verify_at_provider: VerifyAtProvider | None = None,
) -> Receiver:
    metrics = ReceiverMetrics()
    verifiers = Verifiers(ledger)
    return Receiver(
        endpoints=endpoints_of(settings),
        writer=GroupCommitWriter(ledger.add_to_inbox, metrics, max_batch=max_batch),
        verifiers=verifiers,
        handshakes=Handshakes(ledger, verify_at_provider or freshbooks_verifier(settings), verifiers),
        metrics=metrics,
        durability=described,
        limits=limits or Limits(),
    )


def freshbooks_verifier(settings: Settings) -> VerifyAtProvider:
    """PUTs a verifier back through the pair's FreshBooks client (its tokens are in the ledger)."""
    clients: list[Any] = []

    def verify(pair: str, callback_id: str, verifier: str) -> None:
        if not clients:
            # Imported on the first handshake only: the receiver starts without Dagster's import cost.
            from finsync_dagster.resources.pair_clients import PairClients

            clients.append(PairClients.of(settings))
        with clients[0].freshbooks(pair) as client:
            client.verify_callback(callback_id, verifier)

    return verify


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    max_batch: int = MAX_BATCH,
    on_ready: Callable[[Listening], None] = lambda _listening: None,
) -> None:
    """Serve until interrupted (SIGINT or SIGTERM stop it cleanly, committing what is queued)."""
    import uvicorn

    ledger, described = open_durable_ledger(settings.ledger_url)
    receiver = build_receiver(settings, ledger, described, max_batch=max_batch)
    app = build_app(receiver)
    sock = _bound(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    url = f"http://{_url_host(bound_host)}:{bound_port}"
    # No access log and no proxy-header rewriting: the receiver never uses the client's address.
    config = uvicorn.Config(
        app, access_log=False, log_level="warning", server_header=False, proxy_headers=False
    )
    server = uvicorn.Server(config)
    _exit_on_sigterm()
    with _state_file(settings.home / STATE_FILE, url):
        on_ready(Listening(url, described, endpoint_urls(url, receiver)))
        server.run(sockets=[sock])
    ledger.engine.dispose()


def _exit_on_sigterm() -> None:
    """uvicorn stops cleanly on SIGTERM and then raises it again; exit then, rather than die, so the
    state file is removed."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def endpoint_urls(url: str, receiver: Receiver) -> dict[tuple[str, str], str]:
    found = {}
    for pair, endpoints in receiver.endpoints.items():
        if endpoints.freshbooks is not None:
            found[(pair, "freshbooks")] = f"{url}/webhooks/freshbooks/{pair}"
        if endpoints.shop is not None:
            found[(pair, "shop")] = f"{url}/webhooks/shop/{pair}"
    return found


def running_url(home: Path) -> str | None:
    """The URL of a receiver running on this machine under ``home``, if any."""
    try:
        state = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(state["url"])


def _bound(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after a crash
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def _state_file(path: Path, url: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n", encoding="utf-8")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
