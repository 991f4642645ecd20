"""Access tokens from the ledger's :class:`TokenStore`, refreshed before expiry and after a 401.

FreshBooks refresh tokens are single-use, so a refresh is a small transaction across processes: take the
ledger's refresh lease (a dead holder's is taken over at once), re-read the token (another process may
have refreshed while we waited, and then its token is used as is), then, per attempt, take the ledger's
write lock on the token, spend the refresh token and commit the new pair in that same transaction, before
the new access token is used. A busy ledger therefore delays the spend, never the save; a save that fails
anyway is retried, and the pair is kept in memory (and saved at the next call) rather than dropped.

One window stays open: a process killed while the token endpoint's answer is in flight (the request sent,
the commit not yet made). The next refresh finds the lease abandoned and the refresh token refused; it
records in the ledger that the pair must be connected again, logs it as an error, and every later caller
fails at once with the same message naming ``finsync connect freshbooks --pair P``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import httpx

from finsync_dagster.errors import AuthenticationError, LedgerError, TransientApiError
from finsync_dagster.ledger import StoredToken
from finsync_dagster.ledger.tokens import LeaseLostError, LedgerBusyError
from finsync_dagster.resources.freshbooks import oauth
from finsync_dagster.resources.freshbooks.errors import SYSTEM
from finsync_dagster.resources.http_policy import DEFAULT_POLICY, HttpPolicy, call_with_retries
from finsync_dagster.resources.token_store import TokenStore

log = logging.getLogger(__name__)

PROVIDER = "freshbooks"
# Other writers of the ledger wait while a refresh holds its write lock: keep one token call well inside
# their 30 s busy timeout.
TOKEN_CALL_READ_TIMEOUT = 15.0
# How long a granted pair's save is retried when even a fresh transaction cannot commit it.
SAVE_RETRY_SECONDS = 60.0


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
        self._unsaved: tuple[oauth.TokenSet, int] | None = None  # a granted pair not yet committed
        self.refreshes = 0  # how many refresh tokens this keeper spent (for metadata and tests)

    def __repr__(self) -> str:
        return f"TokenKeeper(store={self.token_store!r})"

    def current(self) -> StoredToken:
        """A token that is not about to expire, refreshing it first if it is."""
        with self._lock:
            if self._unsaved is not None:
                self._token = self._save_unsaved()
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
            if self._unsaved is not None:
                self._token = self._save_unsaved()
                return
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
            self._token, self._unsaved = saved, None
        return saved

    def _stored(self) -> StoredToken:
        token = self.token_store.load()
        if token is None:
            raise AuthenticationError(
                f"no FreshBooks token stored for {self.key!r}; run `finsync connect freshbooks --pair {self.key}`",
                system=SYSTEM,
            )
        if token.reconnect_reason:
            raise AuthenticationError(token.reconnect_reason, system=SYSTEM, code="invalid_grant")
        return token

    def _refresh(self, stale: StoredToken, *, forced: bool) -> StoredToken:
        for _ in range(3):  # a lease lost before spending: read again and decide again
            try:
                return self._refresh_once(stale, forced=forced)
            except LeaseLostError:
                log.info(
                    "the FreshBooks token of %r changed hands during the refresh; reading it again", self.key
                )
        return self._stored()

    def _refresh_once(self, stale: StoredToken, *, forced: bool) -> StoredToken:
        with self.token_store.refresh_lease(
            hold_seconds=self._lease_seconds, wait_seconds=self._lease_seconds * 1.5
        ) as current:
            if current is None:
                return self._stored()  # raises: the token was deleted under us
            if current.reconnect_reason:
                raise AuthenticationError(current.reconnect_reason, system=SYSTEM, code="invalid_grant")
            replaced = current.generation != stale.generation
            if (replaced or not forced) and not current.expires_within(self._margin):
                return current
            if not current.refresh_token:
                raise AuthenticationError(
                    f"the stored FreshBooks token for {self.key!r} cannot be refreshed; "
                    f"run `finsync connect freshbooks --pair {self.key}`",
                    system=SYSTEM,
                )
            return self._spend(current)

    def _spend(self, current: StoredToken) -> StoredToken:
        """Spend the refresh token inside the write-locked transaction that commits its successor."""
        policy = dataclasses.replace(
            self._policy, read_timeout=min(self._policy.read_timeout, TOKEN_CALL_READ_TIMEOUT)
        )
        lost_answers: list[BaseException] = []

        def attempt() -> None:
            with self.token_store.refresh_write(
                generation=current.generation, lease_owner=current.lease_owner
            ) as write:
                granted = oauth.refresh(
                    self._app, current.refresh_token or "", policy=policy, transport=self._transport
                )
                self.refreshes += 1
                self._unsaved = (granted, current.generation)  # until the commit below succeeds
                write.save(
                    access_token=granted.access_token,
                    refresh_token=granted.refresh_token,
                    expires_at=granted.expires_at,
                    scope=granted.scope,
                )

        def before_retry(exc: BaseException) -> None:
            if isinstance(exc, TransientApiError):
                lost_answers.append(exc)

        try:
            # A transient failure either left the token unspent, or spent it (the answer was lost), and
            # then the retry is refused with invalid_grant: no worse than not retrying.
            call_with_retries(
                attempt, policy, retry_on=(TransientApiError, LedgerBusyError), before_retry=before_retry
            )
        except AuthenticationError as exc:
            if exc.code != "invalid_grant":
                raise  # e.g. invalid_client: fixing the app's credentials helps, the pair is not dead
            raise self._dead(current, exc, answer_lost=bool(lost_answers)) from None
        except Exception as exc:
            # Whatever failed after the grant (the commit, the disk), the granted pair must not be dropped.
            if self._unsaved is None:
                raise
            log.warning("saving the new FreshBooks token pair of %r failed (%s); retrying", self.key, exc)
            return self._save_unsaved()
        self._unsaved = None
        return self._stored()

    def _save_unsaved(self) -> StoredToken:
        """Commit a granted pair whose first commit failed; keep it in memory for the next call if not."""
        assert self._unsaved is not None
        granted, generation = self._unsaved
        deadline = time.monotonic() + SAVE_RETRY_SECONDS
        delay = 0.1
        while True:
            try:
                saved = self.token_store.save(
                    access_token=granted.access_token,
                    refresh_token=granted.refresh_token,
                    expires_at=granted.expires_at,
                    scope=granted.scope,
                    expected_generation=generation,
                )
                self._unsaved = None
                # None: someone saved a newer set since (a fresh connect); theirs wins.
                return saved or self._stored()
            except Exception as exc:  # any failure: the pair is spent-for, so keep trying
                if time.monotonic() > deadline:
                    raise LedgerError(
                        f"the new FreshBooks token pair of {self.key!r} could not be saved to the ledger "
                        f"({type(exc).__name__}); it is kept in this process and saved at its next call"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _dead(
        self, current: StoredToken, refused: AuthenticationError, *, answer_lost: bool
    ) -> AuthenticationError:
        """Record that only a new connect helps, alert once, and return the error every caller will see."""
        fix = f"run `finsync connect freshbooks --pair {self.key}`"
        if current.abandoned_lease:
            cause = (
                "a refresh was interrupted while the token endpoint's answer was in flight (the process "
                "holding the refresh lease died), so its single-use refresh token is spent"
            )
        elif answer_lost:
            cause = "the answer to a refresh was lost in transit, so its single-use refresh token is spent"
        else:
            cause = f"FreshBooks refused the refresh token ({refused.message})"
        reason = f"the FreshBooks token of {self.key!r} cannot be refreshed: {cause}; {fix}"
        self.token_store.mark_reconnect(reason=reason, generation=current.generation)
        log.error("%s", reason)
        return AuthenticationError(reason, system=SYSTEM, code="invalid_grant")
