"""FreshBooks OAuth2: the authorize URL, the code exchange and the refresh grant, through authlib.

authlib's httpx integration comes through :mod:`finsync_dagster.resources.oauth_http`, the one module
that imports it (and whose deprecation warning in favour of httpx2 stays visible).

FreshBooks authenticates the app in the request body (``client_secret_post``) and wants ``redirect_uri``
on the refresh grant too; refresh tokens are single-use (contract §1.2). Token-endpoint failures are
translated here, once, into finsync errors. The steps of ``finsync connect`` (authorize page, code
exchange) retry transient failures here; ``refresh`` leaves retrying to the token keeper.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from finsync_dagster.errors import ApiError, AuthenticationError, TransientApiError, ValidationError
from finsync_dagster.resources.freshbooks.errors import SYSTEM, error_from_response
from finsync_dagster.resources.http_policy import (
    DEFAULT_POLICY,
    HttpPolicy,
    call_with_retries,
    translate_transport_error,
)
from finsync_dagster.resources.oauth_http import OAuth2Client, OAuthError

TOKEN_PATH = "/auth/oauth/token"
AUTHORIZE_PATH = "/oauth/authorize"
# OAuth errors meaning "this grant or these credentials will never work": a person must reconnect.
DEAD_GRANT = {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied"}


@dataclass(frozen=True)
class OAuthApp:
    """A FreshBooks developer app: where to authorize and its credentials."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    api_url: str = "https://api.freshbooks.com"
    auth_url: str = "https://auth.freshbooks.com"

    @property
    def token_url(self) -> str:
        return self.api_url.rstrip("/") + TOKEN_PATH

    @property
    def authorize_url(self) -> str:
        return self.auth_url.rstrip("/") + AUTHORIZE_PATH


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint granted; ``expires_at`` is UTC."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scope: str | None = None


def new_state() -> str:
    return secrets.token_urlsafe(24)


def authorization_url(app: OAuthApp, *, state: str, scopes: tuple[str, ...] = ()) -> str:
    """The page a person opens to grant finsync access (no scopes: the app's registered defaults)."""
    with _session(app) as session:
        extra = {"scope": " ".join(scopes)} if scopes else {}
        url, _ = session.create_authorization_url(app.authorize_url, state=state, **extra)
    return url


def code_from_redirect(text: str, *, state: str) -> str:
    """The authorization code from a pasted redirect URL (state checked) or from a bare pasted code."""
    text = text.strip()
    if not text:
        raise ValidationError("nothing was pasted", system=SYSTEM, field="code")
    if "?" not in text and "=" not in text:
        return text
    query = parse_qs(urlsplit(text).query)
    if "error" in query:
        raise AuthenticationError(
            f"authorization was refused: {query['error'][0]}", system=SYSTEM, code=query["error"][0]
        )
    if query.get("state", [None])[0] != state:
        raise AuthenticationError(
            "the redirect's state does not match this authorization attempt; start again", system=SYSTEM
        )
    codes = query.get("code")
    if not codes:
        raise ValidationError("the redirect URL carries no code", system=SYSTEM, field="code")
    return codes[0]


def exchange_code(
    app: OAuthApp,
    code: str,
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    transport: httpx.BaseTransport | None = None,
) -> TokenSet:
    """Trade an authorization code for the first token set; transient failures are retried.

    A code is single-use: if an attempt was processed but its answer lost, the retry is refused, and the
    error says to authorize again rather than blaming the credentials.
    """
    failed: list[BaseException] = []

    def attempt() -> TokenSet:
        with _session(app, policy, transport) as session:
            raw = _token_call(
                lambda: session.fetch_token(
                    app.token_url, grant_type="authorization_code", code=code, redirect_uri=app.redirect_uri
                )
            )
        return _token_set(raw)

    try:
        return call_with_retries(attempt, policy, retry_on=(TransientApiError,), before_retry=failed.append)
    except AuthenticationError as exc:
        if failed and exc.code == "invalid_grant":
            raise AuthenticationError(
                "the authorization code was spent by an attempt whose answer was lost "
                f"({type(failed[-1]).__name__}); run `finsync connect freshbooks` again to authorize anew",
                system=SYSTEM,
                code=exc.code,
                request=exc.request,
            ) from None
        raise


def refresh(
    app: OAuthApp,
    refresh_token: str,
    *,
    policy: HttpPolicy = DEFAULT_POLICY,
    transport: httpx.BaseTransport | None = None,
) -> TokenSet:
    """Spend ``refresh_token`` (single-use) on a new token set; store the result before using it."""
    with _session(app, policy, transport) as session:
        raw = _token_call(
            lambda: session.refresh_token(
                app.token_url, refresh_token=refresh_token, redirect_uri=app.redirect_uri
            )
        )
    if not raw.get("refresh_token"):
        # authlib keeps the old one when the answer omits it; that one is spent, so refuse to store it.
        raise AuthenticationError("the refresh answer carried no new refresh token", system=SYSTEM)
    return _token_set(raw)


def _session(
    app: OAuthApp, policy: HttpPolicy = DEFAULT_POLICY, transport: httpx.BaseTransport | None = None
) -> OAuth2Client:
    session = OAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret,
        token_endpoint_auth_method="client_secret_post",
        redirect_uri=app.redirect_uri,
        timeout=policy.timeout,
        transport=transport,
    )
    # See statuses before authlib turns an error body into a bare OAuthError (a 429 would lose its
    # Retry-After, a 503 would look like a refused grant).
    session.register_compliance_hook("access_token_response", _raise_on_transient_status)
    session.register_compliance_hook("refresh_token_response", _raise_on_transient_status)
    return session


def _raise_on_transient_status(response: httpx.Response) -> httpx.Response:
    if response.status_code == 429 or response.status_code >= 500:
        error = error_from_response(response, request=f"POST {TOKEN_PATH}")
        if error is not None:
            raise error
    return response


def _token_call(call: Any) -> dict[str, Any]:
    request = f"POST {TOKEN_PATH}"
    try:
        return dict(call())
    except ApiError:
        raise
    except OAuthError as exc:
        error = exc.error or "oauth_error"
        # The description is the provider's prose about the grant; it never echoes a credential.
        message = exc.description or error
        if error in DEAD_GRANT:
            raise AuthenticationError(
                f"{message.rstrip('.')}; run `finsync connect freshbooks` again",
                system=SYSTEM,
                code=error,
                request=request,
            ) from None
        raise ValidationError(message, system=SYSTEM, code=error, request=request) from None
    except httpx.TransportError as exc:
        raise translate_transport_error(exc, system=SYSTEM, request=request) from exc
    except httpx.HTTPStatusError as exc:
        error = error_from_response(exc.response, request=request)
        raise (
            error or AuthenticationError("token endpoint failed", system=SYSTEM, request=request)
        ) from None
    except ValueError as exc:
        raise AuthenticationError(
            f"token endpoint answered oddly: {exc}", system=SYSTEM, request=request
        ) from None


def _token_set(raw: dict[str, Any]) -> TokenSet:
    if not raw.get("access_token"):
        raise AuthenticationError("the token answer carried no access token", system=SYSTEM)
    return TokenSet(
        access_token=raw["access_token"],
        refresh_token=raw.get("refresh_token"),
        expires_at=_expires_at(raw),
        scope=raw.get("scope"),
    )


def _expires_at(raw: dict[str, Any]) -> datetime | None:
    """FreshBooks sends ``created_at`` (epoch seconds) beside ``expires_in``; trust its clock for both."""
    expires_in = raw.get("expires_in")
    if expires_in is None:
        return None
    created = raw.get("created_at")
    start = datetime.fromtimestamp(int(created), UTC) if created else datetime.now(UTC)
    return start + timedelta(seconds=int(expires_in))


def follow_authorize(
    url: str, *, policy: HttpPolicy = DEFAULT_POLICY, transport: httpx.BaseTransport | None = None
) -> str:
    """Open the authorize page without a browser and return where it redirects (with ``code``).

    Only useful where the page approves without a person (the sandbox does, for its owner); against
    FreshBooks itself a person must log in, and this raises instead. A 429, a 5xx or a lost connection is
    retried: opening the page spends nothing.
    """
    request = f"GET {AUTHORIZE_PATH}"

    def attempt() -> httpx.Response:
        with httpx.Client(timeout=policy.timeout, transport=transport) as session:
            try:
                response = session.get(url, follow_redirects=False)
            except httpx.TransportError as exc:
                raise translate_transport_error(exc, system=SYSTEM, request=request) from exc
        if response.status_code == 429 or response.status_code >= 500:
            error = error_from_response(response, request=request)
            if error is not None:
                raise error
        return response

    response = call_with_retries(attempt, policy, retry_on=(TransientApiError,))
    location = response.headers.get("Location")
    if not response.is_redirect or not location:
        raise AuthenticationError(
            f"the authorize page answered HTTP {response.status_code} instead of redirecting; "
            "it needs a person to log in, so run without --sandbox",
            system=SYSTEM,
        )
    return location
