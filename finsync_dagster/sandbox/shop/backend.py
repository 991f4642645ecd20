"""The backend of one running shop sandbox: every piece of its state, and its control-plane hooks.

As a moto backend, it is what handlers and the shared ``/sandbox`` control plane (``../control.py``) act on.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.faults import FaultInjector, FaultPlan
from finsync_dagster.sandbox.shop import seed as seeding
from finsync_dagster.sandbox.shop import shapes
from finsync_dagster.sandbox.shop.gate import AccessTokens, LeakyBucket, served_version
from finsync_dagster.sandbox.shop.models import Order
from finsync_dagster.sandbox.shop.store import Store
from finsync_dagster.sandbox.shop.webhooks import Webhooks

SHOP_DOMAIN = "finsync-demo.myshopify.com"
API_VERSION = "2025-10"  # the contract's target; what sandbox.json tells clients to use
OLDEST_VERSION = "2025-01"  # older versions fall forward to this one
_SECRET_KEYS = ("access_token", "webhook_secret")


class ShopSandbox:
    """Everything one shop sandbox holds: the store, tokens, the leaky bucket, webhooks, clock and faults."""

    def __init__(
        self,
        *,
        base_url: str,
        seed: str = "demo",
        scale: int | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.clock = SandboxClock()
        self.faults = FaultInjector(faults or FaultPlan())
        self.tokens = AccessTokens(
            self.clock,
            admin_token="shpat_" + secrets.token_hex(16),
            client_id=secrets.token_hex(16),
            client_secret="shpss_" + secrets.token_hex(16),
        )
        self.bucket = LeakyBucket()
        self.oldest_version = OLDEST_VERSION
        self.webhooks = Webhooks(
            self.clock, self._payload, secret=self.tokens.client_secret, shop_domain=SHOP_DOMAIN
        )
        self.store = Store(self.clock, {})
        self.seed_name, self.scale = seed, scale
        self.truth: dict[str, Any] | None = None
        self.reset(seed, scale)

    # -- data

    def reset(self, seed: str | None = None, scale: int | None = None) -> None:
        """Rebuild the shop from a seed (default: the one it started with); subscriptions are dropped."""
        seed = seed or self.seed_name
        seeded = seeding.build(seed, scale, self.clock)
        with self.lock:
            self.store = seeded.store
            self.store.emit = self.webhooks.emit
            self.truth = seeded.truth
            self.seed_name, self.scale = seed, scale
            self.webhooks.clear()

    def _payload(self, topic: str, order: Order) -> dict[str, Any]:
        with self.lock:
            if topic == "orders/delete":
                return {"id": order.id}
            if topic == "refunds/create":
                return shapes.refund(order.refunds[-1], order)
            return shapes.order(order, self.store.customer_of(order))

    def api_url(self, version: str = API_VERSION) -> str:
        return f"{self.base_url}/admin/api/{version}"

    def info(self) -> dict[str, Any]:
        """The ``"shop"`` section of sandbox.json."""
        return {
            "api_url": self.base_url,
            "admin_url": self.api_url(),
            "control_url": f"{self.base_url}/sandbox",
            "token_url": f"{self.base_url}/admin/oauth/access_token",
            "shop_domain": SHOP_DOMAIN,
            "api_version": API_VERSION,
            "access_token": self.tokens.admin_token,
            # The app's API secret key: it signs webhooks, and with client_id gets client-credentials tokens.
            "webhook_secret": self.tokens.client_secret,
            "client_id": self.tokens.client_id,
            "currency": "USD",
            "seed": self.seed_name,
            "scale": self.scale,
        }

    # -- control-plane hooks (``../control.py``)

    def describe(self) -> dict[str, Any]:
        with self.lock:
            counts = {
                "orders": len(self.store.orders),
                "customers": len(self.store.customers),
                "webhooks": len(self.webhooks.subscriptions),
            }
        # The token and the secret stay in sandbox.json (0600): the control plane may be reachable by others.
        public = {key: value for key, value in self.info().items() if key not in _SECRET_KEYS}
        return {**public, "counts": counts}

    def expire_tokens(self) -> int:
        return self.tokens.expire_all()

    def settings(self) -> dict[str, Any]:
        return {
            "bucket_size": self.bucket.size,
            "leak_per_second": self.bucket.leak_per_second,
            "rate_limited": self.bucket.refused,
            "oldest_api_version": self.oldest_version,
            "access_token_lifetime": self.tokens.lifetime,
            "webhooks": self.webhooks.settings.to_dict(),
        }

    def update_settings(self, values: dict[str, Any]) -> None:
        """``bucket_size``, ``leak_per_second``, ``oldest_api_version``, ``access_token_lifetime`` and
        ``webhooks`` (see ``webhooks.py``); an unknown name is 400."""
        known = set(self.settings()) - {"rate_limited"}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown shop settings {sorted(unknown)}; known: {sorted(known)}")
        size = int(values.get("bucket_size", self.bucket.size))
        leak = float(values.get("leak_per_second", self.bucket.leak_per_second))
        if size < 1 or leak <= 0:
            raise ValueError("bucket_size is 1 or more and leak_per_second above 0")
        oldest = str(values.get("oldest_api_version", self.oldest_version))
        if served_version(oldest, oldest) in (None, "unstable"):
            raise ValueError("oldest_api_version is a version such as '2025-01'")
        with self.lock:
            self.bucket.size, self.bucket.leak_per_second = size, leak
            self.bucket.reset()
            self.oldest_version = oldest
            self.tokens.lifetime = int(values.get("access_token_lifetime", self.tokens.lifetime))
            if "webhooks" in values:
                self.webhooks.settings.update(dict(values["webhooks"]))
                self.webhooks.reseed()
