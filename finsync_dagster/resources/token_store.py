"""The one token store of both clients: the ledger's token table, seen through one (provider, key) slot.

Both systems keep their OAuth tokens here, keyed by the pair's name, so parallel runs and processes of one
pair share a token instead of each logging in. What a client does with the token (FreshBooks' single-use
refresh transaction, the ION gateway's re-grant) is its own; this class only reads, writes and leases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from finsync_dagster.ledger import Ledger, StoredToken
from finsync_dagster.ledger.tokens import TokenWrite


class TokenStore:
    """One pair's token for one system, in the ledger; never shows a token in its repr."""

    def __init__(self, ledger: Ledger, *, provider: str, key: str) -> None:
        self.ledger = ledger
        self.provider = provider
        self.key = key

    def __repr__(self) -> str:
        return f"TokenStore(provider={self.provider!r}, key={self.key!r}, ledger={self.ledger.safe_url!r})"

    def load(self) -> StoredToken | None:
        return self.ledger.get_token(self.provider, self.key)

    def save(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
        scope: str | None = None,
        expected_generation: int | None = None,
    ) -> StoredToken | None:
        """Store a token set; with ``expected_generation``, only if nobody saved since (else None)."""
        return self.ledger.save_token(
            self.provider,
            self.key,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            scope=scope,
            expected_generation=expected_generation,
        )

    def discard(self, access_token: str) -> None:
        """Forget the stored token if it is still ``access_token`` (a newer one is kept)."""
        stored = self.load()
        if stored is not None and stored.access_token == access_token:
            self.ledger.delete_token(self.provider, self.key)

    @contextmanager
    def refresh_lease(self, *, hold_seconds: float, wait_seconds: float) -> Iterator[StoredToken | None]:
        """The right to spend the refresh token, across processes; yields the token as it stands then."""
        with self.ledger.refresh_lease(
            self.provider, self.key, hold_seconds=hold_seconds, wait_seconds=wait_seconds
        ) as current:
            yield current

    def refresh_write(
        self, *, generation: int, lease_owner: str | None
    ) -> AbstractContextManager[TokenWrite]:
        """The write-locked transaction around one spend of the refresh token (``ledger.tokens``)."""
        return self.ledger.refresh_write(
            self.provider, self.key, generation=generation, lease_owner=lease_owner
        )

    def mark_reconnect(self, *, reason: str, generation: int) -> None:
        """Record that only a new connect can revive the token of ``generation``."""
        self.ledger.mark_reconnect(self.provider, self.key, reason=reason, generation=generation)
