"""The ION API Gateway in front of M3: OAuth2 token and revoke endpoints, bearer checks, quota, timeout.

It knows nothing of M3: every path under ``/{tenant}/`` other than the authorization server's ``/as/`` is an
API behind the gateway, so a CloudSuite Industrial (IDO) backend could be mounted beside M3 unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.infor.errors import gateway_timeout, oauth_error, throttled, unauthorized

TOKEN_PATH = "token.oauth2"
REVOKE_PATH = "revoke_token.oauth2"
AUTHORIZE_PATH = "authorization.oauth2"


@dataclass(frozen=True)
class AppCredentials:
    """The authorized app and its service account: what the ``.ionapi`` file hands out."""

    tenant: str
    app_name: str
    client_id: str
    client_secret: str = field(repr=False)
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)

    @classmethod
    def generate(cls, tenant: str) -> AppCredentials:
        return cls(
            tenant=tenant,
            app_name="finsync",
            client_id=f"{tenant}~{secrets.token_urlsafe(24)}",
            client_secret=secrets.token_urlsafe(48),
            access_key=f"{tenant}#{secrets.token_urlsafe(48)}",
            secret_key=secrets.token_urlsafe(48),
        )

    def ionapi(self, base_url: str) -> dict[str, str]:
        """A real ``.ionapi`` document whose ``iu`` and ``pu`` point at the sandbox."""
        return {
            "ti": self.tenant,
            "cn": self.app_name,
            "dt": "12",
            "ci": self.client_id,
            "cs": self.client_secret,
            "iu": base_url,
            "pu": f"{base_url}/{self.tenant}/as/",
            "oa": AUTHORIZE_PATH,
            "ot": TOKEN_PATH,
            "or": REVOKE_PATH,
            "ev": "U000000001",
            "v": "1.0",
            "saak": self.access_key,
            "sask": self.secret_key,
        }


@dataclass
class GatewaySettings:
    """Per-app gateway policy; ``/sandbox/gateway`` changes it at run time."""

    expires_in: int = 7200
    issue_refresh_tokens: bool = True
    rolling_refresh_tokens: bool = True
    refresh_token_lifetime: int = 30 * 24 * 3600
    quota_per_second: int = 0  # 0 = no quota
    timeout_ms: int = 60_000

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown gateway setting {key!r}")
            current = getattr(self, key)
            setattr(self, key, value if isinstance(current, bool) else int(value))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class _Grant:
    client_id: str
    expires_at: datetime


class TokenStore:
    """Issued access and refresh tokens with their expiry on the sandbox clock."""

    def __init__(self, clock: SandboxClock, settings: GatewaySettings) -> None:
        self.clock = clock
        self.settings = settings
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, client_id: str, *, with_refresh: bool) -> dict[str, Any]:
        now = self.clock.now()
        access = secrets.token_urlsafe(32)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.settings.expires_in,
        }
        with self._lock:
            self._access[access] = _Grant(client_id, now + timedelta(seconds=self.settings.expires_in))
            self.issued += 1
            if with_refresh:
                refresh = secrets.token_urlsafe(32)
                lifetime = self.settings.refresh_token_lifetime
                self._refresh[refresh] = _Grant(client_id, now + timedelta(seconds=lifetime))
                body["refresh_token"] = refresh
        return body

    def redeem_refresh(self, token: str, client_id: str) -> bool:
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or grant.client_id != client_id or grant.expires_at <= self.clock.now():
                return False
            if self.settings.rolling_refresh_tokens:
                del self._refresh[token]
            return True

    def client_of(self, token: str) -> str | None:
        grant = self._access.get(token)
        if grant is None or grant.expires_at <= self.clock.now():
            return None
        return grant.client_id

    def revoke(self, token: str) -> None:
        with self._lock:
            self._access.pop(token, None)
            self._refresh.pop(token, None)

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._access)
            self._access.clear()
            return count


class Quota:
    """Spike arrest: at most N calls per second per client, the rest rejected with 429."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client_id: str) -> int | None:
        limit = self.settings.quota_per_second
        if limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(client_id, deque())
            while calls and calls[0] <= now - 1.0:
                calls.popleft()
            if len(calls) >= limit:
                return max(1, math.ceil(calls[0] + 1.0 - now))
            calls.append(now)
            return None


class Gateway:
    """The gateway of one tenant: credentials, tokens, policy, and the two OAuth endpoints."""

    def __init__(self, credentials: AppCredentials, clock: SandboxClock) -> None:
        self.credentials = credentials
        self.settings = GatewaySettings()
        self.tokens = TokenStore(clock, self.settings)
        self.quota = Quota(self.settings)

    def _client(self, request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            client_id, _, client_secret = decoded.partition(":")
            return client_id, client_secret
        return form.get("client_id"), form.get("client_secret")

    def _client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        return client_id == self.credentials.client_id and secrets.compare_digest(
            client_secret or "", self.credentials.client_secret
        )

    async def token_endpoint(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, client_secret = self._client(request, form)
        if not self._client_ok(client_id, client_secret):
            return oauth_error(401, "invalid_client", "Client authentication failed")
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            user_ok = form.get("username") == self.credentials.access_key and secrets.compare_digest(
                form.get("password", ""), self.credentials.secret_key
            )
            if not user_ok:
                return oauth_error(400, "invalid_grant", "The service account keys are not valid")
        elif grant_type == "refresh_token":
            if not self.settings.issue_refresh_tokens:
                return oauth_error(400, "unsupported_grant_type", "This app is not allowed refresh tokens")
            if not self.tokens.redeem_refresh(form.get("refresh_token", ""), self.credentials.client_id):
                return oauth_error(400, "invalid_grant", "The refresh token is invalid, expired or revoked")
        else:
            return oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        body = self.tokens.issue(self.credentials.client_id, with_refresh=self.settings.issue_refresh_tokens)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def revoke_endpoint(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()} if request.method == "POST" else {}
        values = {**dict(request.query_params), **form}
        client_id, client_secret = self._client(request, values)
        if client_id is not None and not self._client_ok(client_id, client_secret):
            return oauth_error(401, "invalid_client", "Client authentication failed")
        token = values.get("token")
        if not token:
            return oauth_error(400, "invalid_request", "token is required")
        self.tokens.revoke(token)  # RFC 7009: unknown tokens are not an error
        return Response(status_code=200)

    def bearer(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                text = value.decode("latin-1")
                if text[:7].lower() == "bearer ":
                    return text[7:].strip()
        return None

    def revoke_presented(self, request: Request) -> Response:
        """The fault injector's "revoke": the caller's token dies, as if an admin had revoked it."""
        token = self.bearer(request.scope)
        if token:
            self.tokens.revoke(token)
        return unauthorized("The bearer token has been revoked")


def _api_path(path: str, tenant: str) -> bool:
    return not path.startswith("/sandbox") and not path.startswith(f"/{tenant}/as/")


class GatewayAuthMiddleware:
    """Bearer check (401) and quota (429) on every API call; the OAuth endpoints are open."""

    def __init__(self, app: ASGIApp, *, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _api_path(scope["path"], self.gateway.credentials.tenant):
            await self.app(scope, receive, send)
            return
        token = self.gateway.bearer(scope)
        client_id = self.gateway.tokens.client_of(token) if token else None
        if client_id is None or not scope["path"].startswith(f"/{self.gateway.credentials.tenant}/"):
            await unauthorized()(scope, receive, send)
            return
        retry_after = self.gateway.quota.retry_after(client_id)
        if retry_after is not None:
            await throttled(retry_after)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class GatewayTimeoutMiddleware:
    """504 when the backend takes longer than the gateway's timeout.

    The backend is not cancelled: like a real gateway, the caller gets a 504 while the write may still
    happen, which is why writes must be idempotent.
    """

    def __init__(self, app: ASGIApp, *, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _api_path(scope["path"], self.gateway.credentials.tenant):
            await self.app(scope, receive, send)
            return
        timeout_ms = self.gateway.settings.timeout_ms
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        task = asyncio.ensure_future(self.app(scope, receive, capture))
        done, _ = await asyncio.wait({task}, timeout=timeout_ms / 1000)
        if not done:
            task.add_done_callback(_consume)
            await gateway_timeout(timeout_ms)(scope, receive, send)
            return
        error = task.exception()
        for message in messages:
            await send(message)
        if error is not None:
            raise error


def _consume(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
