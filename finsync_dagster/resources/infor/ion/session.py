"""An authenticated session with one tenant's ION API Gateway: tokens, bearer calls, retries, revocation.

Generic on purpose: it knows nothing of M3 or CloudSuite Industrial. A backend module (``resources/infor``
for M3 MI today, an IDO REST module later) asks an :class:`IonApiSession` for requests under the tenant's
API base (``iu + "/" + ti``) and interprets the bodies itself.

Auth (contract ``infor-api.md`` section 1): tokens come from ``pu + ot`` with the resource-owner password
grant, the service-account keys ``saak``/``sask`` as username and password and ``ci``/``cs`` in the form
body; a file without service-account keys uses the client-credentials grant. A token near expiry is
refreshed (refresh grant when the app issued a refresh token, else a new grant); a 401 from the gateway
drops the token and re-authenticates once, at once. ``close()`` revokes at ``pu + or`` (form POST, client
authenticated by HTTP Basic, transient failures retried), except a token shared through the ledger's
:class:`TokenStore` that the store still holds: another run of the pair may be using it.

Writes (``idempotent=False``) are resent only after the errors of :data:`SAFE_TO_RESEND`: a 401 or 429 from
the gateway, or a connection that never opened.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    AuthenticationError,
    AuthExpiredError,
    RateLimitedError,
    TransientApiError,
)
from finsync_dagster.resources.http_policy import (
    DEFAULT_POLICY,
    HttpPolicy,
    call_with_retries,
    new_http_client,
    quota_limiter,
    translate_transport_error,
)
from finsync_dagster.resources.infor.ion.credentials import IonApiCredentials
from finsync_dagster.resources.infor.ion.errors import TOKEN_REQUEST, gateway_error, token_endpoint_error
from finsync_dagster.resources.infor.ion.tokens import load_token, save_token
from finsync_dagster.resources.oauth_http import OAuth2Client, OAuth2Token, OAuthError
from finsync_dagster.resources.token_store import TokenStore

log = logging.getLogger(__name__)
T = TypeVar("T")


class IonApiSession:
    """Authenticated calls through one tenant's ION API Gateway; thread-safe, so callers may fan out."""

    def __init__(
        self,
        credentials: IonApiCredentials,
        *,
        system: str = "infor",
        policy: HttpPolicy = DEFAULT_POLICY,
        transport: httpx.BaseTransport | None = None,
        token_store: TokenStore | None = None,
        revoke_on_close: bool = True,
        expiry_leeway: float = 30.0,
        api_base: str | None = None,
    ) -> None:
        self.credentials = credentials
        self.system = system
        self.policy = policy
        self.token_store = token_store
        self.revoke_on_close = revoke_on_close
        self.expiry_leeway = expiry_leeway
        self.token_requests = 0
        self._http = new_http_client(api_base or credentials.api_base, policy, transport=transport)
        self._oauth = OAuth2Client(
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            token_endpoint_auth_method="client_secret_post",
            revocation_endpoint_auth_method="client_secret_basic",
            timeout=policy.timeout,
            transport=transport,
        )
        for hook in ("access_token_response", "refresh_token_response"):
            self._oauth.register_compliance_hook(hook, self._check_token_response)
        self._token: OAuth2Token | None = None
        self._lock = threading.RLock()
        self._limiter = quota_limiter(policy.requests_per_minute)
        self._closed = False

    def __repr__(self) -> str:
        return f"IonApiSession(tenant={self.credentials.tenant!r}, api_base={str(self._http.base_url)!r})"

    def __enter__(self) -> IonApiSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- tokens ------------------------------------------------------------------------------------

    def authenticate(self, *, force: bool = False) -> None:
        """Make sure a usable token is at hand (``force`` asks the gateway for a new one)."""
        with self._lock:
            if force:
                self._token = None
            self._access_token(reuse_stored=not force)

    @property
    def token_expires_at(self) -> datetime | None:
        token = self._token
        if token is None or not token.get("expires_at"):
            return None
        return datetime.fromtimestamp(token["expires_at"], UTC)

    @property
    def token(self) -> OAuth2Token | None:
        """The token in use, for a caller that stores it (``finsync connect``); never log it."""
        return self._token

    def _access_token(self, *, reuse_stored: bool = True) -> str:
        with self._lock:
            if self._token is not None and not self._expiring(self._token):
                return self._token["access_token"]
            if reuse_stored and self.token_store is not None:
                stored = load_token(self.token_store)
                if stored is not None and not self._expiring(stored):
                    self._token = stored
                    return stored["access_token"]
            token = call_with_retries(lambda: self._obtain(self._token), self.policy)
            self._token = token
            if self.token_store is not None:
                save_token(self.token_store, token)
            return token["access_token"]

    def _expiring(self, token: OAuth2Token) -> bool:
        expires_at = token.get("expires_at")
        if not expires_at:
            return False
        # A short-lived token (a sandbox, a strict tenant) must not count as expiring the moment it arrives.
        lifetime = token.get("expires_in")
        leeway = min(self.expiry_leeway, 0.1 * float(lifetime)) if lifetime else self.expiry_leeway
        return expires_at - leeway <= time.time()

    def _invalidate(self, rejected: str) -> None:
        """Forget a token the gateway refused, unless another thread already replaced it."""
        with self._lock:
            if self._token is not None and self._token["access_token"] == rejected:
                # Keep the refresh token (if any) so the next grant can be a refresh.
                kept = {k: v for k, v in self._token.items() if k != "expires_in"}
                self._token = OAuth2Token({**kept, "expires_at": 1})
            if self.token_store is not None:
                self.token_store.discard(rejected)

    def _obtain(self, previous: OAuth2Token | None) -> OAuth2Token:
        self.token_requests += 1
        url = self.credentials.token_url
        if previous is not None and previous.get("refresh_token"):
            try:
                token = self._token_call(
                    lambda: self._oauth.refresh_token(url, refresh_token=previous["refresh_token"])
                )
                log.info("refreshed the ION API token for tenant %s", self.credentials.tenant)
                return token
            except AuthenticationError:
                log.info("the ION API refresh token was refused; asking for a new grant")
        creds = self.credentials
        if creds.service_account_key and creds.service_account_secret:
            grant = lambda: self._oauth.fetch_token(  # noqa: E731
                url,
                grant_type="password",
                username=creds.service_account_key,
                password=creds.service_account_secret,
            )
        else:
            grant = lambda: self._oauth.fetch_token(url, grant_type="client_credentials")  # noqa: E731
        token = self._token_call(grant)
        log.info(
            "obtained an ION API token for tenant %s (expires in %s s)", creds.tenant, token.get("expires_in")
        )
        return token

    def _token_call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except OAuthError as exc:
            # authlib's description may quote the request; the error code alone is safe to show.
            raise AuthenticationError(
                f"the ION API token endpoint refused the credentials ({exc.error})",
                system=self.system,
                code=str(exc.error),
                request=TOKEN_REQUEST,
            ) from None
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, system=self.system, request=TOKEN_REQUEST) from None

    def _check_token_response(self, response: httpx.Response) -> httpx.Response:
        error = token_endpoint_error(response, system=self.system)
        if error is not None:
            raise error
        return response

    # -- calls -------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
        passthrough: frozenset[int] = frozenset({400}),
    ) -> httpx.Response:
        """Send one call with a bearer token, retried per the shared HTTP policy.

        Responses with a status in ``passthrough`` are returned for the backend module to interpret
        (M3 answers MI errors with 400); other gateway errors raise finsync errors.
        """
        label = f"{method} {path}"
        retry_on: tuple[type[BaseException], ...] = (TransientApiError,) if idempotent else SAFE_TO_RESEND

        def attempt() -> httpx.Response:
            for first_try in (True, False):
                token = self._access_token()
                response = self._send(method, path, params, json_body, token, label)
                if response.status_code != 401:
                    return self._check(response, label, passthrough)
                self._invalidate(token)
                if not first_try:
                    break
                log.info("the ION API gateway refused the token (401); re-authenticating")
            raise AuthExpiredError(
                "the gateway refused a freshly issued token", system=self.system, status=401, request=label
            )

        return call_with_retries(attempt, self.policy, retry_on=retry_on)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        token: str,
        label: str,
    ) -> httpx.Response:
        if self._closed:
            raise RuntimeError("this ION API session is closed")
        self._limiter.acquire()
        try:
            return self._http.request(
                method, path, params=params, json=json_body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, system=self.system, request=label) from exc

    def _check(self, response: httpx.Response, label: str, passthrough: frozenset[int]) -> httpx.Response:
        if response.status_code < 400 or response.status_code in passthrough:
            return response
        error = gateway_error(response, system=self.system, request=label)
        if isinstance(error, RateLimitedError) and error.retry_after:
            self._limiter.penalize(error.retry_after)
        raise error

    # -- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Revoke the token (when configured to, and nobody shares it) and release connections.

        A token shared through the ledger's token store is left alive while the store still holds it: another
        run of the pair may be using it, and it expires on its own. Safe to call twice.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            token, self._token = self._token, None
        try:
            if token is not None and self.revoke_on_close and not self._shared(token):
                self._revoke(token)
        finally:
            self._http.close()
            self._oauth.close()

    def _shared(self, token: OAuth2Token) -> bool:
        if self.token_store is None:
            return False
        stored = self.token_store.load()
        return stored is not None and stored.access_token == token["access_token"]

    def _revoke(self, token: OAuth2Token) -> None:
        url = self.credentials.revoke_url
        if url is None:
            return
        hints = [("access_token", token["access_token"])]
        if token.get("refresh_token"):
            hints.append(("refresh_token", token["refresh_token"]))
        for hint, value in hints:
            try:
                call_with_retries(functools.partial(self._revoke_one, url, value, hint), self.policy)
            except (TransientApiError, httpx.HTTPError, OAuthError) as exc:
                # Closing must not fail a run that otherwise succeeded; the token expires on its own.
                log.warning("revoking the ION API %s failed: %s", hint, type(exc).__name__)

    def _revoke_one(self, url: str, value: str, hint: str) -> None:
        """One revocation request; a 429, a 5xx or a lost connection raises a transient error (retried)."""
        try:
            response = self._oauth.revoke_token(url, token=value, token_type_hint=hint)
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, system=self.system, request="POST revoke endpoint") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise gateway_error(response, system=self.system, request="POST revoke endpoint")
        if response.status_code >= 400:
            log.warning("revoking the ION API %s failed: HTTP %s", hint, response.status_code)
