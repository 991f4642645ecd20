"""Webhook callbacks: registration under ``/events/account/{account_id}/events/callbacks`` and delivery.

Registration follows contract section 5.1: create answers ``verified: false`` and the sandbox POSTs a
verifier to the URI; the app PUTs ``{"callback": {"verifier": ...}}`` back, and only then are events
delivered. ``{"callback": {"resend": true}}`` sends the verifier again; changing the URI needs a new
verification. Errors use the flat events envelope (``errno``/``message``/``details``).

Delivery (5.3, 5.4) runs on one background thread per sandbox, so API calls never wait for a receiver:
each create/update/delete of a subscribed object is POSTed form-encoded with the fields ``name``,
``object_id``, ``account_id``, ``business_id``, ``identity_id``, ``user_id`` (in that order, all strings),
signed with ``X-FreshBooks-Hmac-SHA256`` = base64(HMAC-SHA256(verifier, json.dumps(fields))), Python's
default separators, keys in posted order. A receiver that fails (non-2xx, timeout, refused connection) is
retried ``max_attempts`` times with doubling delays from ``retry_base`` seconds; ``delay`` seconds pass
before the first attempt (FreshBooks promises "seconds to minutes").

UNCONFIRMED points, as chosen here: the verification POST is named ``callback.verify``, carries
``object_id`` (the callback id) and ``verifier`` after the usual context fields, and is signed with the
verifier like every other delivery; a subscription to a parent name (``invoice``) receives all of that
object's events; ``search[event]`` matches a callback's event or its parent.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.freshbooks.errors import events_not_found, events_validation
from finsync_dagster.sandbox.freshbooks.values import iso_z

SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
VERIFY_EVENT = "callback.verify"
EVENT_OBJECTS = (
    "bill",
    "bill_vendor",
    "category",
    "client",
    "credit_note",
    "estimate",
    "expense",
    "invoice",
    "item",
    "payment",
    "project",
    "recurring",
    "service",
    "tax",
    "time_entry",
)
KNOWN_EVENTS = frozenset(
    [
        *EVENT_OBJECTS,
        *(f"{o}.{verb}" for o in EVENT_OBJECTS for verb in ("create", "update", "delete")),
        "estimate.sendByEmail",
        "invoice.sendByEmail",
    ]
)


def sign(verifier: str, fields: list[tuple[str, str]]) -> str:
    """The ``X-FreshBooks-Hmac-SHA256`` value for form fields posted in this order (contract 5.4)."""
    message = json.dumps({name: str(value) for name, value in fields})
    digest = hmac.new(verifier.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class Callback:
    id: int
    account_id: str
    event: str
    uri: str
    verifier: str = field(repr=False)
    verified: bool = False
    updated: float = 0.0

    def render(self) -> dict[str, Any]:
        return {
            "callbackid": self.id,
            "event": self.event,
            "uri": self.uri,
            "verified": self.verified,
            "updated_at": iso_z(self.updated),
        }

    def wants(self, event: str) -> bool:
        return self.event == event or self.event == event.partition(".")[0]


@dataclass
class WebhookSettings:
    delay: float = 0.5  # seconds before the first attempt
    retry_base: float = 1.0  # first retry after this many seconds, doubling
    max_attempts: int = 5
    timeout: float = 10.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "delay": self.delay,
            "retry_base": self.retry_base,
            "max_attempts": self.max_attempts,
            "timeout": self.timeout,
        }


@dataclass
class _Job:
    callback_id: int
    account_id: str
    fields: list[tuple[str, str]]
    attempt: int = 1


# (account_id) -> the context fields every delivery carries after name and object_id
ContextFields = Callable[[str], list[tuple[str, str]]]


class Webhooks:
    """Callback registrations of every account, and the thread that delivers to them."""

    def __init__(
        self, clock: SandboxClock, context: ContextFields, settings: WebhookSettings | None = None
    ) -> None:
        self.clock = clock
        self.context = context
        self.settings = settings or WebhookSettings()
        self.callbacks: dict[int, Callback] = {}
        self.deliveries: list[dict[str, Any]] = []  # every attempt, oldest first
        self._ids = itertools.count(2001)
        self._lock = threading.Condition()
        self._queue: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- registrations (called by the handlers)

    def list(self, account_id: str, event: str | None = None) -> list[Callback]:
        with self._lock:
            found = [cb for cb in self.callbacks.values() if cb.account_id == account_id]
        if event:
            found = [cb for cb in found if cb.event in (event, event.partition(".")[0])]
        return sorted(found, key=lambda cb: cb.id)

    def get(self, account_id: str, callback_id: int) -> Callback:
        with self._lock:
            callback = self.callbacks.get(callback_id)
        if callback is None or callback.account_id != account_id:
            raise events_not_found()
        return callback

    def create(self, account_id: str, data: dict[str, Any]) -> Callback:
        event, uri = _validate(data.get("event"), data.get("uri"))
        with self._lock:
            callback = Callback(
                next(self._ids), account_id, event, uri, secrets.token_hex(16), updated=self.clock.time()
            )
            self.callbacks[callback.id] = callback
        self._send_verifier(callback)
        return callback

    def update(self, account_id: str, callback_id: int, data: dict[str, Any]) -> Callback:
        callback = self.get(account_id, callback_id)
        if "verifier" in data:
            if not hmac.compare_digest(str(data["verifier"]), callback.verifier):
                raise events_validation(["verifier: Value error, Invalid verifier."])
            callback.verified = True
        elif data.get("resend"):
            self._send_verifier(callback)
        else:
            event, uri = _validate(data.get("event", callback.event), data.get("uri", callback.uri))
            if uri != callback.uri:
                callback.verified = False
                callback.uri = uri
                self._send_verifier(callback)
            callback.event = event
        callback.updated = self.clock.time()
        return callback

    def delete(self, account_id: str, callback_id: int) -> None:
        self.get(account_id, callback_id)
        with self._lock:
            del self.callbacks[callback_id]

    # -- events (called by the model on every change)

    def emit(self, account_id: str, event: str, object_id: int) -> None:
        with self._lock:
            targets = [
                cb
                for cb in self.callbacks.values()
                if cb.account_id == account_id and cb.verified and cb.wants(event)
            ]
        for callback in targets:
            fields = [("name", event), ("object_id", str(object_id)), *self.context(account_id)]
            self._schedule(_Job(callback.id, account_id, fields), self.settings.delay)

    def _send_verifier(self, callback: Callback) -> None:
        fields = [
            ("name", VERIFY_EVENT),
            ("object_id", str(callback.id)),
            *self.context(callback.account_id),
            ("verifier", callback.verifier),
        ]
        self._schedule(_Job(callback.id, callback.account_id, fields), self.settings.delay)

    # -- the delivery thread

    def _schedule(self, job: _Job, after: float) -> None:
        with self._lock:
            if self._closed:
                return
            heapq.heappush(self._queue, (time.monotonic() + after, next(self._seq), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="freshbooks-webhooks", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _run(self) -> None:
        with httpx.Client(timeout=self.settings.timeout) as http:
            while True:
                with self._lock:
                    while not self._closed and (not self._queue or self._queue[0][0] > time.monotonic()):
                        wait = self._queue[0][0] - time.monotonic() if self._queue else None
                        self._lock.wait(wait)
                    if self._closed:
                        return
                    _, _, job = heapq.heappop(self._queue)
                    callback = self.callbacks.get(job.callback_id)
                    self._in_flight += 1
                try:
                    if callback is not None and (callback.verified or job.fields[0][1] == VERIFY_EVENT):
                        self._attempt(http, callback, job)
                finally:
                    with self._lock:
                        self._in_flight -= 1
                        self._lock.notify_all()

    def _attempt(self, http: httpx.Client, callback: Callback, job: _Job) -> None:
        signature = sign(callback.verifier, job.fields)
        record: dict[str, Any] = {
            "callbackid": callback.id,
            "uri": callback.uri,
            "name": job.fields[0][1],
            "object_id": job.fields[1][1],
            "fields": dict(job.fields),
            "signature": signature,
            "attempt": job.attempt,
            "at": self.clock.time(),
        }
        try:
            response = http.post(
                callback.uri,
                content=urlencode(job.fields),
                headers={"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature},
            )
            record.update(status=response.status_code, ok=response.is_success, error=None)
        except httpx.HTTPError as exc:
            record.update(status=None, ok=False, error=type(exc).__name__)
        with self._lock:
            self.deliveries.append(record)
        if not record["ok"] and job.attempt < self.settings.max_attempts:
            delay = self.settings.retry_base * 2 ** (job.attempt - 1)
            self._schedule(_Job(job.callback_id, job.account_id, job.fields, job.attempt + 1), delay)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))
            return True

    def clear(self) -> None:
        with self._lock:
            self.callbacks.clear()
            self.deliveries.clear()
            self._queue.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()


def _validate(event: Any, uri: Any) -> tuple[str, str]:
    details = []
    if not isinstance(event, str) or event not in KNOWN_EVENTS:
        details.append("event: Value error, Unrecognized event.")
    parts = urlsplit(uri) if isinstance(uri, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        details.append("uri: Input should be a valid URL, relative URL without a base")
    if details:
        raise events_validation(details)
    return str(event), str(uri)
