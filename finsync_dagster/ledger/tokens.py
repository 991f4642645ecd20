"""The OAuth token store: one token set per provider and account, saved by compare-and-swap.

Refresh tokens are single-use (FreshBooks rotates them), so two processes must never refresh the same set
at once: ``refresh_lease`` lets one of them do it while the others wait and then read the result.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.schema import oauth_tokens


@dataclass(frozen=True)
class StoredToken:
    """An OAuth token set as the ledger holds it. ``generation`` changes on every save."""

    provider: str
    account: str
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str | None
    generation: int

    def expires_within(self, seconds: float) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at <= utcnow() + timedelta(seconds=seconds)

    def __repr__(self) -> str:  # never print a token
        return (
            f"StoredToken(provider={self.provider!r}, account={self.account!r}, "
            f"expires_at={self.expires_at!r}, generation={self.generation})"
        )


def _key(provider: str, account: str) -> sa.ColumnElement[bool]:
    return (oauth_tokens.c.provider == provider) & (oauth_tokens.c.account == account)


def get_token(engine: sa.Engine, provider: str, account: str) -> StoredToken | None:
    with engine.connect() as connection:
        row = connection.execute(sa.select(oauth_tokens).where(_key(provider, account))).first()
    if row is None:
        return None
    return StoredToken(
        provider=row.provider,
        account=row.account,
        access_token=row.access_token,
        refresh_token=row.refresh_token,
        expires_at=aware(row.expires_at),
        scope=row.scope,
        generation=row.generation,
    )


def save_token(
    engine: sa.Engine,
    provider: str,
    account: str,
    *,
    access_token: str,
    refresh_token: str | None,
    expires_at: datetime | None,
    scope: str | None = None,
    expected_generation: int | None = None,
) -> StoredToken | None:
    """Store a token set and release any refresh lease.

    With ``expected_generation`` this is a compare-and-swap: it writes only if nobody saved since
    that generation, and returns None otherwise. Without it, it overwrites (a fresh ``connect``).
    """
    values = {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "expires_at": expires_at,
        "scope": scope,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": utcnow(),
    }
    key = _key(provider, account)
    with engine.begin() as connection:
        current = connection.execute(sa.select(oauth_tokens.c.generation).where(key)).scalar()
        if expected_generation is not None and current != expected_generation:
            return None
        if current is None:
            generation = 1
            connection.execute(
                oauth_tokens.insert().values(
                    provider=provider, account=account, generation=generation, **values
                )
            )
        else:
            generation = current + 1
            where = key & (oauth_tokens.c.generation == current)
            if not connection.execute(
                oauth_tokens.update().where(where).values(generation=generation, **values)
            ).rowcount:
                return None
    return get_token(engine, provider, account)


def delete_token(engine: sa.Engine, provider: str, account: str) -> None:
    with engine.begin() as connection:
        connection.execute(oauth_tokens.delete().where(_key(provider, account)))


@contextmanager
def refresh_lease(
    engine: sa.Engine, provider: str, account: str, *, hold_seconds: float = 30.0, wait_seconds: float = 60.0
) -> Iterator[StoredToken | None]:
    """Hold the right to refresh a token set, across processes.

    The lease is a conditional UPDATE, atomic on SQLite and PostgreSQL alike. Inside the block the caller
    gets the token as it stands *after* acquiring the lease: if another process refreshed meanwhile, the
    caller sees the new token and need not refresh. A crashed holder's lease lapses after ``hold_seconds``.
    """
    owner = uuid.uuid4().hex
    key = _key(provider, account)
    deadline = time.monotonic() + wait_seconds
    while True:
        now = utcnow()
        with engine.begin() as connection:
            taken = connection.execute(
                oauth_tokens.update()
                .where(key & (oauth_tokens.c.lease_until.is_(None) | (oauth_tokens.c.lease_until < now)))
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=hold_seconds))
            ).rowcount
        if taken:
            break
        if get_token(engine, provider, account) is None:
            break  # nothing stored: nothing to protect
        if time.monotonic() > deadline:
            raise LedgerError(f"timed out waiting for the {provider} token refresh lease of {account!r}")
        time.sleep(0.05)
    try:
        yield get_token(engine, provider, account)
    finally:
        with engine.begin() as connection:
            connection.execute(
                oauth_tokens.update()
                .where(key & (oauth_tokens.c.lease_owner == owner))
                .values(lease_owner=None, lease_until=None)
            )
