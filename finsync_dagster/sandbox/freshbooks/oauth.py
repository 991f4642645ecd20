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
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from finsync_dagster.sandbox.freshbooks.errors import OAuthError, unauthenticated

if TYPE_CHECKING:
    from finsync_dagster.sandbox.freshbooks.app import FreshBooksSandbox


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
