"""Access tokens from the ledger's :class:`TokenStore`, refreshed before expiry and after a 401.

FreshBooks refresh tokens are single-use, so a refresh is a small transaction across processes: take the
ledger's refresh lease, re-read the token (another process may have refreshed while we waited, and then
its token is used as is), spend the refresh token, and commit the new pair to the ledger *before* the new
access token is used. If the process dies between the refresh and the commit, the pair is lost and a
person must reconnect; the window is one HTTP round trip.
"""

from __future__ import annotations

import threading

import httpx

from finsync_dagster.errors import AuthenticationError, TransientApiError
from finsync_dagster.ledger import StoredToken
from finsync_dagster.resources.freshbooks import oauth
from finsync_dagster.resources.freshbooks.errors import SYSTEM
from finsync_dagster.resources.http_policy import DEFAULT_POLICY, HttpPolicy, call_with_retries
from finsync_dagster.resources.token_store import TokenStore

PROVIDER = "freshbooks"


class TokenKeeper:
    """Hands out a valid access token for one pair's slot of the token store; thread-safe."""

    def __init__(
        self,
        store: TokenStore,
        app: oauth.OAuthApp,
        *,
        refresh_margin: float = 300.0,
        policy: HttpPolicy = DEFAULT_POLICY,
        transport: httpx.BaseTransport | None = None,
        lease_seconds: float = 120.0,
    ) -> None:
        self.token_store = store
        self.key = store.key
        self._app = app
        self._margin = refresh_margin
        self._policy = policy
        self._transport = transport
        self._lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._token: StoredToken | None = None
        self.refreshes = 0  # how many refresh tokens this keeper spent (for metadata and tests)

    def __repr__(self) -> str:
        return f"TokenKeeper(store={self.token_store!r})"

    def current(self) -> StoredToken:
        """A token that is not about to expire, refreshing it first if it is."""
        with self._lock:
            token = self._token or self._stored()
            if token.expires_within(self._margin):
                token = self._refresh(token, forced=False)
            self._token = token
            return token

    def rejected(self, token: StoredToken) -> None:
        """The API refused ``token`` (401): refresh, unless someone already replaced it."""
        with self._lock:
            if self._token is not None and self._token.generation != token.generation:
                return  # another thread of this process refreshed already
            self._token = self._refresh(token, forced=True)

    def store(self, tokens: oauth.TokenSet) -> StoredToken:
        """Save a freshly granted token set (``finsync connect``), replacing whatever was stored."""
        saved = self.token_store.save(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
            scope=tokens.scope,
        )
        assert saved is not None  # an unconditional save always writes
        with self._lock:
            self._token = saved
        return saved

    def _stored(self) -> StoredToken:
        token = self.token_store.load()
        if token is None:
            raise AuthenticationError(
                f"no FreshBooks token stored for {self.key!r}; run `finsync connect freshbooks --pair {self.key}`",
                system=SYSTEM,
            )
        return token

    def _refresh(self, stale: StoredToken, *, forced: bool) -> StoredToken:
        with self.token_store.refresh_lease(
            hold_seconds=self._lease_seconds, wait_seconds=self._lease_seconds * 1.5
        ) as current:
            if current is None:
                return self._stored()  # raises: the token was deleted under us
            replaced = current.generation != stale.generation
            if (replaced or not forced) and not current.expires_within(self._margin):
                return current
            if not current.refresh_token:
                raise AuthenticationError(
                    f"the stored FreshBooks token for {self.key!r} cannot be refreshed; reconnect",
                    system=SYSTEM,
                )
            # Retrying is safe: a transient failure either left the token unspent, or spent it, and
            # then the retry is refused with invalid_grant, which is no worse than not retrying.
            granted = call_with_retries(
                lambda: oauth.refresh(
                    self._app, current.refresh_token or "", policy=self._policy, transport=self._transport
                ),
                self._policy,
                retry_on=(TransientApiError,),
            )
            self.refreshes += 1
            saved = self.token_store.save(
                access_token=granted.access_token,
                refresh_token=granted.refresh_token,
                expires_at=granted.expires_at,
                scope=granted.scope,
                expected_generation=current.generation,
            )
        # None: our lease lapsed and someone saved a newer set (e.g. a fresh connect); theirs wins.
        return saved or self._stored()
