"""Helpers of the receiver tests: a receiver served by uvicorn on loopback, and signed deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
import uvicorn

from finsync_dagster.ledger import Ledger
from finsync_dagster.ledger.schema import inbox
from finsync_dagster.webhooks import Receiver, build_app

PAIR = "acme"
ACCOUNT = "ACME1"
BUSINESS = "77"
VERIFIER = "receiver-test-verifier-0f3c"
SHOP_SECRET = "hush-this-is-a-made-up-client-secret"
SHOP_DOMAIN = "acme.myshopify.com"

CONFIG = f"""\
version: 1
pairs:
  - name: {PAIR}
    freshbooks: {{account_id: {ACCOUNT}, business_id: {BUSINESS}}}
    infor: {{company: "100", ionapi_env: ACME_IONAPI}}
"""


def write_config(directory: Path) -> Path:
    path = directory / "finsync.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def seed_verified_callback(ledger: Ledger, event: str = "invoice", callback_id: str = "5001") -> None:
    """A callback as `finsync webhooks register` and the handshake leave it: recorded, verified."""
    ledger.record_callback(pair=PAIR, system="freshbooks", callback_id=callback_id, event=event, url="x")
    ledger.mark_callback_verified(pair=PAIR, system="freshbooks", callback_id=callback_id, secret=VERIFIER)


def delivery_fields(
    object_id: str, name: str = "invoice.update", account: str = ACCOUNT
) -> list[tuple[str, str]]:
    return [
        ("name", name),
        ("object_id", object_id),
        ("account_id", account),
        ("business_id", BUSINESS),
        ("identity_id", "9"),
        ("user_id", "1"),
    ]


def fb_signature(key: str, fields: Sequence[tuple[str, str]]) -> str:
    """The contract's recipe (§5.4), written here independently of the receiver's code."""
    message = json.dumps(dict(fields))  # Python's defaults: ", " and ": ", non-ASCII escaped
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def fb_post(fields: Sequence[tuple[str, str]], key: str | None = VERIFIER) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if key is not None:
        headers["X-FreshBooks-Hmac-SHA256"] = fb_signature(key, fields)
    return urlencode(list(fields)).encode(), headers


def shop_headers(body: bytes, *, event_id: str, secret: str = SHOP_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode(),
        "X-Shopify-Shop-Domain": SHOP_DOMAIN,
        "X-Shopify-Webhook-Id": f"w-{event_id}",
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-API-Version": "2025-10",
    }


def inbox_count(ledger: Ledger) -> int:
    with ledger.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(inbox)).scalar() or 0)


@dataclass
class Served:
    url: str
    receiver: Receiver


@contextmanager
def served(receiver: Receiver) -> Iterator[Served]:
    """The receiver's app under uvicorn on a loopback port, in a thread of this process."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(receiver), access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise AssertionError("the receiver did not start")
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", receiver)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
