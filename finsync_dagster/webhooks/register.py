"""Subscribing a pair's receiver URL to the FreshBooks events finsync acts on, idempotently.

For each event: a callback FreshBooks already has for this URL is kept (and recorded if the ledger did not
know it, e.g. after a run that died between the two); otherwise one is created and recorded, unverified.
The receiver completes each handshake as FreshBooks posts the verifier. A verifier that reached the
receiver before the callback was recorded was refused, so callbacks still unverified after a moment get
their verifier sent again (``resend``). Ledger rows of callbacks FreshBooks no longer has are dropped. A
second run creates nothing and resends nothing once everything is verified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.freshbooks.callbacks import Callback

SYSTEM = "freshbooks"
# Each is only a prompt to re-fetch that object; the poller still catches anything a callback misses.
EVENTS = tuple(
    f"{record}.{change}"
    for record in ("invoice", "payment", "client", "expense")
    for change in ("create", "update", "delete")
)


class CallbackApi(Protocol):
    """The calls of :class:`~finsync_dagster.resources.freshbooks.FreshBooksClient` this needs."""

    def list_callbacks(self, *, event: str | None = None) -> list[Callback]: ...

    def create_callback(self, event: str, uri: str) -> Callback: ...

    def resend_verification(self, callback_id: int | str) -> Callback: ...


@dataclass(frozen=True)
class Registered:
    """One event's callback after a run: ``created`` by this run or kept; ``verified`` in the ledger."""

    pair: str
    event: str
    callback_id: str
    url: str
    created: bool
    verified: bool


def endpoint_url(base_url: str, pair: str) -> str:
    """The pair's FreshBooks endpoint under the receiver's public URL (given whole, it is kept)."""
    path = f"/webhooks/freshbooks/{pair}"
    base = base_url.rstrip("/")
    return base if base.endswith(path) else base + path


def register(
    api: CallbackApi,
    ledger: Ledger,
    pair: str,
    url: str,
    *,
    events: Sequence[str] = EVENTS,
    wait: float = 30.0,
    resend_every: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Registered]:
    """Make sure each of ``events`` has a callback to ``url``; wait up to ``wait`` s for verification."""
    existing = api.list_callbacks()
    _forget_vanished(ledger, pair, {str(c.callback_id) for c in existing})
    by_event = {c.event: c for c in existing if c.uri == url}
    created: set[str] = set()
    for event in events:
        callback = by_event.get(event) or api.create_callback(event, url)
        callback_id = str(callback.callback_id)
        if event not in by_event:
            created.add(callback_id)
        ledger.record_callback(pair=pair, system=SYSTEM, callback_id=callback_id, event=event, url=url)
        by_event[event] = callback
    ids = {str(by_event[event].callback_id): event for event in events}
    _await_verification(api, ledger, pair, ids, wait=wait, resend_every=resend_every, sleep=sleep)
    verified = {c.callback_id for c in ledger.webhook_callbacks(pair=pair, system=SYSTEM) if c.verified}
    return [
        Registered(pair, event, callback_id, url, callback_id in created, callback_id in verified)
        for callback_id, event in ids.items()
    ]


def _forget_vanished(ledger: Ledger, pair: str, known: set[str]) -> None:
    for recorded in ledger.webhook_callbacks(pair=pair, system=SYSTEM):
        if recorded.callback_id not in known:
            ledger.forget_callback(pair=pair, system=SYSTEM, callback_id=recorded.callback_id)


def _await_verification(
    api: CallbackApi,
    ledger: Ledger,
    pair: str,
    ids: dict[str, str],
    *,
    wait: float,
    resend_every: float,
    sleep: Callable[[float], None],
) -> None:
    started = time.monotonic()
    next_resend = started + min(2.0, resend_every)  # the first verifier may still be on its way
    while True:
        pending = [c for c in _unverified(ledger, pair) if c in ids]
        now = time.monotonic()
        if not pending or now - started >= wait:
            return
        if now >= next_resend:
            for callback_id in pending:
                api.resend_verification(callback_id)
            next_resend = now + resend_every
        sleep(0.2)


def _unverified(ledger: Ledger, pair: str) -> list[str]:
    return [c.callback_id for c in ledger.webhook_callbacks(pair=pair, system=SYSTEM) if not c.verified]
