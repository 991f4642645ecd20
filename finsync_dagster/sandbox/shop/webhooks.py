"""Webhook subscriptions (``webhooks.json``) and their signed, at-least-once, unordered delivery.

Subscriptions follow contract 6.2: create answers 201; the same topic and address twice is 422
``{"errors": {"address": ["for this topic has already been taken"]}}``, an unknown topic 422 on
``topic``; the address must be HTTPS, or plain HTTP on loopback (the sandbox's one allowance).

Delivery (6.3-6.5) runs on one background thread, so a change never waits for a receiver. Each delivery
is a ``POST`` of the compact JSON of the record (the order; the refund for ``refunds/create``; ``{"id"}``
for ``orders/delete``), cut to the subscription's ``fields``, with ``X-Shopify-Topic``,
``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body, keyed with the app's secret),
``X-Shopify-Shop-Domain``, ``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id`` (one per delivery, the
same on its retries and duplicates), ``X-Shopify-Event-Id`` (one per change and topic, shared by every
subscription to it), ``X-Shopify-Triggered-At`` and, for order topics, ``X-Shopify-Order-Id``. The body
is the one of the moment of the change, even when a retry sends it later.

Any 2xx is success; 3xx, other statuses, timeouts (1 s to connect, 5 s in all) and refused connections
fail and are retried ``max_retries`` times with doubling pauses from ``retry_base`` (Shopify's 8 retries
over 4 hours, compressed). A delivery whose last retry fails deletes its subscription (UNCONFIRMED: the
contract's "8 consecutive failures" read as one delivery's attempts).

The settings ``duplicate_rate`` (the share of deliveries sent twice) and ``shuffle_window`` (deliveries
are spread at random over that many seconds, so they arrive out of order), with ``seed``, make the
at-least-once and unordered guarantees testable.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import ipaddress
import itertools
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.shop.errors import ShopError, not_found, unprocessable

TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/delete",
    "refunds/create",
)
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value of a raw body (contract 6.4)."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


@dataclass
class Subscription:
    id: int
    topic: str
    address: str
    fields: tuple[str, ...]
    api_version: str
    created_at: float
    updated_at: float


@dataclass
class WebhookSettings:
    delay: float = 0.1  # seconds before the first attempt
    retry_base: float = 0.5  # first retry after this many seconds, doubling
    max_retries: int = 8
    timeout: float = 5.0
    connect_timeout: float = 1.0
    duplicate_rate: float = 0.0
    shuffle_window: float = 0.0
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "delay": self.delay,
            "retry_base": self.retry_base,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
            "connect_timeout": self.connect_timeout,
            "duplicate_rate": self.duplicate_rate,
            "shuffle_window": self.shuffle_window,
            "seed": self.seed,
        }

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key not in self.to_dict():
                raise ValueError(f"unknown webhook setting {key!r}; known: {sorted(self.to_dict())}")
            if key == "seed":
                self.seed = None if value is None else int(value)
            elif key == "max_retries":
                self.max_retries = int(value)
            else:
                setattr(self, key, float(value))
        if not 0 <= self.duplicate_rate <= 1:
            raise ValueError("duplicate_rate is a share between 0 and 1")


@dataclass
class _Job:
    subscription_id: int
    topic: str
    body: bytes
    webhook_id: str
    event_id: str
    triggered_at: str
    order_id: int | None
    attempt: int = 1
    duplicate: bool = False


# (topic, the changed record) -> the JSON payload of that topic
Payload = Callable[[str, Any], dict[str, Any]]


@dataclass
class Webhooks:
    """The subscriptions of the shop and the thread that delivers to them."""

    clock: SandboxClock
    payload: Payload
    secret: str = field(repr=False)
    shop_domain: str
    settings: WebhookSettings = field(default_factory=WebhookSettings)

    def __post_init__(self) -> None:
        self.subscriptions: dict[int, Subscription] = {}
        self.deliveries: list[dict[str, Any]] = []  # every attempt, oldest first
        self.removed: list[int] = []  # subscriptions deleted after failing
        self._ids = itertools.count(1_100_000_001, 7)
        self._lock = threading.Condition()
        self._queue: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._random = random.Random(self.settings.seed)
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- subscriptions (the Admin API's webhooks.json)

    def matching(
        self, *, topic: str | None = None, address: str | None = None, since_id: int = 0
    ) -> list[Subscription]:
        with self._lock:
            found = sorted(self.subscriptions.values(), key=lambda s: s.id)
        return [
            s
            for s in found
            if s.id > since_id
            and (topic is None or s.topic == topic)
            and (address is None or s.address == address)
        ]

    def get(self, subscription_id: int) -> Subscription:
        with self._lock:
            found = self.subscriptions.get(subscription_id)
        if found is None:
            raise not_found()
        return found

    def create(self, data: dict[str, Any], api_version: str) -> Subscription:
        topic, address, fields = _validate(data)
        with self._lock:
            self._refuse_duplicate(topic, address, None)
            now = self.clock.time()
            made = Subscription(next(self._ids), topic, address, fields, api_version, now, now)
            self.subscriptions[made.id] = made
        return made

    def update(self, subscription_id: int, data: dict[str, Any]) -> Subscription:
        found = self.get(subscription_id)
        topic, address, fields = _validate(
            {"topic": found.topic, "address": found.address, "fields": list(found.fields), **data}
        )
        with self._lock:
            self._refuse_duplicate(topic, address, found.id)
            found.topic, found.address, found.fields = topic, address, fields
            found.updated_at = self.clock.time()
        return found

    def delete(self, subscription_id: int) -> None:
        self.get(subscription_id)
        with self._lock:
            self.subscriptions.pop(subscription_id, None)

    def _refuse_duplicate(self, topic: str, address: str, own_id: int | None) -> None:
        if any(
            s.topic == topic and s.address == address and s.id != own_id for s in self.subscriptions.values()
        ):
            raise unprocessable("address", "for this topic has already been taken")

    # -- events (called by the store on every change)

    def emit(self, topics: Sequence[str], record: Any) -> None:
        triggered = _nanoseconds(self.clock.time())
        order_id = getattr(record, "id", None)
        for topic in topics:
            with self._lock:
                targets = [s for s in self.subscriptions.values() if s.topic == topic]
            if not targets:
                continue
            payload = self.payload(topic, record)
            event_id = str(uuid.uuid4())
            for subscription in targets:
                trimmed = (
                    {k: v for k, v in payload.items() if k in subscription.fields}
                    if subscription.fields
                    else payload
                )
                body = json.dumps(trimmed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                job = _Job(
                    subscription.id,
                    topic,
                    body,
                    str(uuid.uuid4()),
                    event_id,
                    triggered,
                    order_id if topic.startswith("orders/") else None,
                )
                self._schedule(job, self._first_delay())
                if self._draw() < self.settings.duplicate_rate:
                    copy = _Job(**{**job.__dict__, "duplicate": True})
                    self._schedule(copy, self._first_delay())

    def reseed(self) -> None:
        """Start the duplicate and shuffle draws again from ``settings.seed``."""
        with self._lock:
            self._random = random.Random(self.settings.seed)

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def _first_delay(self) -> float:
        spread = self.settings.shuffle_window
        with self._lock:
            jitter = self._random.uniform(0, spread) if spread > 0 else 0.0
        return self.settings.delay + jitter

    # -- the delivery thread

    def _schedule(self, job: _Job, after: float) -> None:
        with self._lock:
            if self._closed:
                return
            heapq.heappush(self._queue, (time.monotonic() + after, next(self._seq), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shop-webhooks", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _run(self) -> None:
        timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        with httpx.Client(timeout=timeout) as http:
            while True:
                with self._lock:
                    while not self._closed and (not self._queue or self._queue[0][0] > time.monotonic()):
                        wait = self._queue[0][0] - time.monotonic() if self._queue else None
                        self._lock.wait(wait)
                    if self._closed:
                        return
                    _, _, job = heapq.heappop(self._queue)
                    subscription = self.subscriptions.get(job.subscription_id)
                    self._in_flight += 1
                try:
                    if subscription is not None:
                        self._attempt(http, subscription, job)
                finally:
                    with self._lock:
                        self._in_flight -= 1
                        self._lock.notify_all()

    def _attempt(self, http: httpx.Client, subscription: Subscription, job: _Job) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": job.topic,
            SIGNATURE_HEADER: sign(self.secret, job.body),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": subscription.api_version,
            "X-Shopify-Webhook-Id": job.webhook_id,
            "X-Shopify-Event-Id": job.event_id,
            "X-Shopify-Triggered-At": job.triggered_at,
        }
        if job.order_id is not None:
            headers["X-Shopify-Order-Id"] = str(job.order_id)
        record: dict[str, Any] = {
            "subscription_id": subscription.id,
            "address": subscription.address,
            "topic": job.topic,
            "webhook_id": job.webhook_id,
            "event_id": job.event_id,
            "order_id": job.order_id,
            "attempt": job.attempt,
            "duplicate": job.duplicate,
            "at": self.clock.time(),
        }
        try:
            response = http.post(subscription.address, content=job.body, headers=headers)
            record.update(status=response.status_code, ok=response.is_success, error=None)
        except httpx.HTTPError as exc:
            record.update(status=None, ok=False, error=type(exc).__name__)
        with self._lock:
            self.deliveries.append(record)
        if record["ok"]:
            return
        if job.attempt <= self.settings.max_retries:
            delay = self.settings.retry_base * 2 ** (job.attempt - 1)
            self._schedule(_Job(**{**job.__dict__, "attempt": job.attempt + 1}), delay)
        else:
            with self._lock:
                if self.subscriptions.pop(subscription.id, None) is not None:
                    self.removed.append(subscription.id)

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
            self.subscriptions.clear()
            self.deliveries.clear()
            self.removed.clear()
            self._queue.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()


def _nanoseconds(epoch: float) -> str:
    """``2023-03-29T18:00:27.877041743Z``: UTC with nine decimals, as Shopify sends it."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _validate(data: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    topic, address, fields = data.get("topic"), data.get("address"), data.get("fields") or []
    if topic not in TOPICS:
        raise unprocessable("topic", f"Invalid topic specified. Valid topics are: {', '.join(TOPICS)}")
    if not isinstance(address, str) or not _deliverable(address):
        raise unprocessable("address", "is not an HTTPS URL (the sandbox also takes http:// on loopback)")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ShopError(400, {"fields": "Invalid value."})
    return str(topic), address, tuple(fields)


def _deliverable(address: str) -> bool:
    parts = urlsplit(address)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
