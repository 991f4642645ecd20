"""OAuth2 endpoints and the identity (contract section 1).

- ``GET /oauth/authorize`` (with or without the trailing slash) auto-approves for the sandbox owner and
  redirects to the registered ``redirect_uri`` with ``code`` (5 minutes, single use) and ``state``. An
  unknown ``client_id`` or ``redirect_uri`` gets an error page, never a redirect (RFC 6749 4.1.2.1).
- ``POST /auth/oauth/token`` takes ``authorization_code`` and ``refresh_token`` grants, form-encoded or
  JSON. Refresh tokens rotate and are single-use: a second use gets ``invalid_grant`` (HTTP 400, the RFC's
  choice; FreshBooks' status is UNCONFIRMED). Bad client credentials get 401 ``invalid_client``.
- ``GET /auth/api/v1/users/me`` answers ``{"response": identity}`` with the business memberships.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.freshbooks.errors import OAuthError, unauthenticated

if TYPE_CHECKING:
    from finsync_dagster.sandbox.freshbooks.backend import FreshBooksSandbox


# -- OAuth state (contract section 1.2) ----------------------------------------------------------------

DEFAULT_SCOPES = (
    "user:profile:read",
    "user:clients:read",
    "user:clients:write",
    "user:invoices:read",
    "user:invoices:write",
    "user:payments:read",
    "user:payments:write",
    "user:expenses:read",
    "user:expenses:write",
    "user:billable_items:read",
    "user:billable_items:write",
    "user:taxes:read",
    "user:taxes:write",
    "user:bills:read",
    "user:bills:write",
    "user:bill_vendors:read",
    "user:bill_vendors:write",
)
CODE_LIFETIME = 300  # authorization codes live 5 minutes


@dataclass(frozen=True)
class OAuthApp:
    """The one registered developer app of the sandbox."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str


@dataclass
class Grant:
    scope: str
    redirect_uri: str
    expires_at: float


@dataclass
class AccessToken:
    scope: str
    expires_at: float


class TokenStore:
    """Authorization codes, access tokens and single-use rotating refresh tokens.

    Whether a refresh also revokes the previous access token is UNCONFIRMED; here it does not (the old
    access token lives until it expires), so a second process holding it is not cut off mid-page.
    """

    def __init__(self, app: OAuthApp, clock: SandboxClock, lifetime: int = 43200) -> None:
        self.app = app
        self.clock = clock
        self.lifetime = lifetime
        self.codes: dict[str, Grant] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> scope
        self.used_refresh_tokens: set[str] = set()
        self.refreshes = 0

    def authorize(self, redirect_uri: str, scope: str) -> str:
        code = _token(32)
        self.codes[code] = Grant(scope, redirect_uri, self.clock.time() + CODE_LIFETIME)
        return code

    def exchange_code(self, code: str, redirect_uri: str | None) -> dict[str, Any]:
        grant = self.codes.pop(code, None)  # single use
        if grant is None or grant.expires_at < self.clock.time():
            raise _invalid_grant("The authorization code is invalid, expired or already used.")
        if redirect_uri != grant.redirect_uri:
            raise _invalid_grant("The redirect_uri does not match the one used to authorize.")
        return self.issue(grant.scope)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        scope = self.refresh_tokens.pop(refresh_token, None)
        if scope is None:
            reason = "already used" if refresh_token in self.used_refresh_tokens else "unknown"
            raise _invalid_grant(f"The refresh token is invalid ({reason}); refresh tokens are single-use.")
        self.used_refresh_tokens.add(refresh_token)
        self.refreshes += 1
        return self.issue(scope)

    def issue(self, scope: str | None = None) -> dict[str, Any]:
        """A fresh access + refresh token pair, in the token endpoint's response shape."""
        scope = " ".join(DEFAULT_SCOPES) if scope is None else scope
        created = int(self.clock.time())
        access, refresh = _token(32), _token(32)
        self.access[access] = AccessToken(scope, created + self.lifetime)
        self.refresh_tokens[refresh] = scope
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
            "scope": scope,
            "created_at": created,
            "direct_buy_tokens": {},
        }

    def check(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or found.expires_at <= self.clock.time():
            return None
        return found

    def revoke(self, token: str) -> None:
        self.access.pop(token, None)

    def expire_all(self) -> int:
        """Expire every live access token (refresh tokens stay usable); returns how many."""
        count = len(self.access)
        self.access.clear()
        return count


def _token(nbytes: int) -> str:
    return secrets.token_hex(nbytes)


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", description)


def _sandbox(request: Request) -> FreshBooksSandbox:
    return request.app.state.sandbox


async def authorize(request: Request) -> Response:
    sandbox = _sandbox(request)
    params = request.query_params
    app = sandbox.oauth_app
    if params.get("client_id") != app.client_id:
        return _error_page("Unknown client_id: this application is not registered.")
    redirect_uri = params.get("redirect_uri") or app.redirect_uri
    if redirect_uri != app.redirect_uri:
        return _error_page("The redirect_uri does not match the application's registered redirect URI.")
    state = params.get("state")
    if params.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
    scope = " ".join(params.get("scope", "").split())
    with sandbox.lock:
        code = sandbox.tokens.authorize(redirect_uri, scope or " ".join(sandbox.default_scopes))
    return _redirect(redirect_uri, {"code": code, "state": state})


def _redirect(redirect_uri: str, params: dict[str, str | None]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)


def _error_page(message: str) -> Response:
    return HTMLResponse(f"<html><body><h1>Authorization error</h1><p>{message}</p></body></html>", 400)


async def token(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _token_body(request)
    app = sandbox.oauth_app
    if body.get("client_id") != app.client_id or body.get("client_secret") != app.client_secret:
        raise OAuthError(401, "invalid_client", "Client authentication failed: unknown client or bad secret.")
    grant_type = body.get("grant_type")
    with sandbox.lock:
        if grant_type == "authorization_code":
            if not body.get("code"):
                raise OAuthError(400, "invalid_request", "The code parameter is required.")
            issued = sandbox.tokens.exchange_code(str(body["code"]), body.get("redirect_uri"))
        elif grant_type == "refresh_token":
            if not body.get("refresh_token"):
                raise OAuthError(400, "invalid_request", "The refresh_token parameter is required.")
            issued = sandbox.tokens.refresh(str(body["refresh_token"]))
        else:
            raise OAuthError(400, "unsupported_grant_type", f"Grant type {grant_type!r} is not supported.")
    return JSONResponse(issued, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _token_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise OAuthError(400, "invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise OAuthError(400, "invalid_request", "The request body must be a JSON object.")
        return body
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def me(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.check_rate_limit(request)
    if sandbox.bearer(request) is None:
        raise unauthenticated()
    return JSONResponse({"response": sandbox.identity_document()})
