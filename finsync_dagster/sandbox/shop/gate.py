"""What stands in front of every Admin API call: the version in the path, the access token, the leaky bucket,
and the headers every answer carries (contract 1.2, 1.4, 4.1, 5).

- ``/admin/api/{version}/...``: a well-formed ``YYYY-MM`` (or ``unstable``) is served; one older than the
  oldest supported falls forward to it; a path without a version is served the oldest; anything else is
  404. The served version is echoed in ``X-Shopify-API-Version`` and is the one routes see.
- ``X-Shopify-Access-Token`` must be the custom app's token or a live client-credentials token, else 401
  with ``WWW-Authenticate``.
- A leaky bucket per token (40 requests, leaking 2 a second: Shopify's standard plan): every call costs
  one; a full bucket answers 429 with ``Retry-After`` (seconds until one slot frees, fractional). Every
  answer carries ``X-Shopify-Shop-Api-Call-Limit: used/size`` and an ``X-Request-Id``.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.shop.errors import ShopError, not_found, render, throttled, unauthorized

API_PREFIX = "/admin/api/"
TOKEN_HEADER = "x-shopify-access-token"
_VERSION = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
SCOPES = "read_orders,write_orders,read_customers,read_fulfillments,write_fulfillments"


def served_version(requested: str | None, oldest: str) -> str | None:
    """The version that answers a request for ``requested`` (None: refuse with 404)."""
    if requested is None:
        return oldest
    if requested == "unstable":
        return requested
    if not _VERSION.fullmatch(requested):
        return None
    return max(requested, oldest)


@dataclass
class AccessTokens:
    """The custom app's static token, and client-credentials tokens that expire on the sandbox clock."""

    clock: SandboxClock
    admin_token: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    lifetime: int = 86399  # the expires_in observed for client-credentials tokens (contract 1.2)

    def __post_init__(self) -> None:
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def valid(self, token: str) -> bool:
        if secrets.compare_digest(token.encode(), self.admin_token.encode()):
            return True
        with self._lock:
            expires = self._issued.get(token)
        return expires is not None and self.clock.time() < expires

    def issue(self) -> tuple[str, int]:
        token = "shpca_" + secrets.token_hex(16)
        with self._lock:
            self._issued[token] = self.clock.time() + self.lifetime
        return token, self.lifetime

    def expire_all(self) -> int:
        """Every client-credentials token expires now; the custom app's token never expires."""
        now = self.clock.time()
        with self._lock:
            live = [token for token, expires in self._issued.items() if expires > now]
            for token in live:
                self._issued[token] = now
        return len(live)


class LeakyBucket:
    """Shopify's REST limit per token: ``size`` calls, leaking ``leak_per_second``; real (not sandbox) time."""

    def __init__(self, size: int = 40, leak_per_second: float = 2.0) -> None:
        self.size = size
        self.leak_per_second = leak_per_second
        self.refused = 0
        self._levels: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, int, float]:
        """Count one call: (accepted, calls in the bucket now, seconds until a slot frees if refused)."""
        now = time.monotonic()
        with self._lock:
            level, at = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - at) * self.leak_per_second)
            if level + 1 > self.size:
                self.refused += 1
                self._levels[key] = (level, now)
                return False, math.ceil(level - 1e-9), (level + 1 - self.size) / self.leak_per_second
            level += 1
            self._levels[key] = (level, now)
            return True, math.ceil(level - 1e-9), 0.0

    def reset(self) -> None:
        with self._lock:
            self._levels.clear()


class AdminGate:
    """ASGI middleware for ``/admin/api``: version, token, bucket, and the common answer headers."""

    def __init__(
        self, app: ASGIApp, *, tokens: AccessTokens, bucket: LeakyBucket, oldest_version: Callable[[], str]
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.bucket = bucket
        self.oldest_version = oldest_version  # the setting as it is now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _is_api(path):
            await self.app(scope, receive, send)
            return
        requested, rest = _split(path)
        served = served_version(requested, self.oldest_version())
        headers = {"X-Request-Id": str(uuid.uuid4())}
        if served is None or not rest:
            await self._refuse(not_found(), headers, scope, receive, send)
            return
        headers["X-Shopify-API-Version"] = served
        token = Request(scope).headers.get(TOKEN_HEADER, "").strip()
        if not token or not self.tokens.valid(token):
            await self._refuse(unauthorized(), headers, scope, receive, send)
            return
        accepted, used, retry_after = self.bucket.take(token)
        headers["X-Shopify-Shop-Api-Call-Limit"] = f"{used}/{self.bucket.size}"
        if not accepted:
            await self._refuse(
                throttled(self.bucket.leak_per_second, retry_after), headers, scope, receive, send
            )
            return
        routed = f"{API_PREFIX}{served}{rest}"
        scope = {**scope, "path": routed, "raw_path": routed.encode()}
        await self.app(scope, receive, _with_headers(send, headers))

    async def _refuse(
        self, error: ShopError, headers: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        error.headers = {**headers, **error.headers}
        await render(error)(scope, receive, send)


def _is_api(path: str) -> bool:
    return path.startswith("/admin/") and not path.startswith("/admin/oauth/")


def _split(path: str) -> tuple[str | None, str]:
    """(version or None, the rest of the path from its ``/``), for ``/admin/api/V/x.json`` or ``/admin/x.json``."""
    if path.startswith(API_PREFIX):
        version, _, rest = path[len(API_PREFIX) :].partition("/")
        return version, "/" + rest if rest else ""
    return None, path[len("/admin") :]


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    # Canonical case, as Shopify sends them over HTTP/1.1: some clients (ShopifyAPI) match it exactly.
    extra = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def client_credentials(request: Request) -> Response:
    """``POST /admin/oauth/access_token`` with ``grant_type=client_credentials`` (contract 1.2)."""
    tokens: AccessTokens = request.app.state.sandbox.tokens
    form = dict(await request.form())
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if form.get("client_id") != tokens.client_id or not secrets.compare_digest(
        str(form.get("client_secret", "")).encode(), tokens.client_secret.encode()
    ):
        return JSONResponse(
            {"error": "invalid_client", "error_description": "Client authentication failed"}, status_code=400
        )
    token, expires_in = tokens.issue()
    return JSONResponse({"access_token": token, "scope": SCOPES, "expires_in": expires_in})
