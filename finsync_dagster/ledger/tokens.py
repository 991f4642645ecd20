"""The OAuth token store: one token set per provider and account, sealed at rest, saved by compare-and-swap.

Refresh tokens are single-use (FreshBooks rotates them), so two processes must never refresh the same set
at once, and a granted pair must never live only in memory:

- ``refresh_lease`` lets one process refresh while the others wait and then read the result. The lease
  names its holder (``holders``): a holder that died is taken over at once, not after ``lease_until``.
- ``refresh_write`` is the transaction around one call of the token endpoint: it takes the database's
  write lock on the token *before* the refresh token is spent, checks the caller still holds the lease
  (fencing), and commits the granted pair in the same transaction. Nothing can then hold the lock
  between the endpoint's answer and the commit; a process killed before the commit loses only the one
  round trip in flight.
- ``mark_reconnect`` records that only a new ``finsync connect`` can help, so every later step fails at
  once with the same message instead of asking the endpoint again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.holders import holder_is_dead, new_owner
from finsync_dagster.ledger.schema import oauth_tokens
from finsync_dagster.ledger.sealing import TokenCipher


class LedgerBusyError(LedgerError):
    """The ledger's write lock stayed taken past its busy timeout; nothing was spent, so try again."""


class LeaseLostError(LedgerError):
    """The refresh lease passed to another process (or the token changed) before the refresh token was
    spent; the caller reads the token again instead of refreshing."""


@dataclass(frozen=True)
class StoredToken:
    """An OAuth token set as the ledger holds it. ``generation`` changes on every save.

    ``reconnect_reason`` is set when only a new connect can help. ``abandoned_lease`` is True when the
    previous lease holder left without releasing it (it died, perhaps while spending the refresh token).
    """

    provider: str
    account: str
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str | None
    generation: int
    reconnect_reason: str | None = None
    lease_owner: str | None = None
    abandoned_lease: bool = False

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


def _reading(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only: on SQLite it does not wait for the write lock (WAL readers never do)."""
    return engine.connect().execution_options(sqlite_begin="DEFERRED")


def _what(provider: str, account: str) -> str:
    return f"the {provider} token of {account!r} in the ledger"


def _from_row(row: Any, cipher: TokenCipher, *, abandoned: bool = False) -> StoredToken:
    what = _what(row.provider, row.account)
    return StoredToken(
        provider=row.provider,
        account=row.account,
        access_token=cipher.open(row.access_token, what=what) or "",
        refresh_token=cipher.open(row.refresh_token, what=what),
        expires_at=aware(row.expires_at),
        scope=row.scope,
        generation=row.generation,
        reconnect_reason=row.reconnect_reason,
        lease_owner=row.lease_owner,
        abandoned_lease=abandoned,
    )


def get_token(engine: sa.Engine, cipher: TokenCipher, provider: str, account: str) -> StoredToken | None:
    with _reading(engine) as connection:
        row = connection.execute(sa.select(oauth_tokens).where(_key(provider, account))).first()
    return None if row is None else _from_row(row, cipher)


def _sealed_values(
    cipher: TokenCipher,
    *,
    access_token: str,
    refresh_token: str | None,
    expires_at: datetime | None,
    scope: str | None,
) -> dict[str, Any]:
    return {
        "access_token": cipher.seal(access_token),
        "refresh_token": cipher.seal(refresh_token),
        "expires_at": expires_at,
        "scope": scope,
        "lease_owner": None,
        "lease_until": None,
        "reconnect_reason": None,
        "updated_at": utcnow(),
    }


def save_token(
    engine: sa.Engine,
    cipher: TokenCipher,
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
    values = _sealed_values(
        cipher, access_token=access_token, refresh_token=refresh_token, expires_at=expires_at, scope=scope
    )
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
    return get_token(engine, cipher, provider, account)


def delete_token(engine: sa.Engine, provider: str, account: str) -> None:
    with engine.begin() as connection:
        connection.execute(oauth_tokens.delete().where(_key(provider, account)))


def mark_reconnect(engine: sa.Engine, provider: str, account: str, *, reason: str, generation: int) -> None:
    """Record that the token of ``generation`` is dead; a newer save (a connect, a late commit) wins."""
    key = _key(provider, account) & (oauth_tokens.c.generation == generation)
    with engine.begin() as connection:
        connection.execute(oauth_tokens.update().where(key).values(reconnect_reason=reason))


def seal_plaintext(engine: sa.Engine, cipher: TokenCipher) -> int:
    """Encrypt in place the tokens an older finsync stored in plain text; returns how many rows."""
    with _reading(engine) as connection:
        rows = connection.execute(
            sa.select(oauth_tokens.c.provider, oauth_tokens.c.account).where(
                ~oauth_tokens.c.access_token.startswith("fernet:")
            )
        ).all()
    for provider, account in rows:
        with engine.begin() as connection:
            row = connection.execute(sa.select(oauth_tokens).where(_key(provider, account))).first()
            if row is None or cipher.is_sealed(row.access_token):
                continue
            connection.execute(
                oauth_tokens.update()
                .where(_key(provider, account))
                .values(
                    access_token=cipher.seal(row.access_token),
                    refresh_token=row.refresh_token
                    if cipher.is_sealed(row.refresh_token)
                    else cipher.seal(row.refresh_token),
                )
            )
    return len(rows)


@contextmanager
def refresh_lease(
    engine: sa.Engine,
    cipher: TokenCipher,
    provider: str,
    account: str,
    *,
    hold_seconds: float = 30.0,
    wait_seconds: float = 60.0,
) -> Iterator[StoredToken | None]:
    """Hold the right to refresh a token set, across processes.

    The lease is a conditional UPDATE, atomic on SQLite and PostgreSQL alike. Inside the block the caller
    gets the token as it stands *after* acquiring the lease: if another process refreshed meanwhile, the
    caller sees the new token and need not refresh. A holder that died on this host is taken over at once;
    any other holder's lease lapses after ``hold_seconds``.
    """
    owner = new_owner()
    key = _key(provider, account)
    deadline = time.monotonic() + wait_seconds
    while True:
        now = utcnow()
        with _reading(engine) as connection:
            row = connection.execute(
                sa.select(oauth_tokens.c.lease_owner, oauth_tokens.c.lease_until).where(key)
            ).first()
        if row is None:
            yield None  # nothing stored: nothing to protect
            return
        previous, until = row.lease_owner, aware(row.lease_until)
        free = previous is None or until is None or until < now or holder_is_dead(previous)
        if free and _take(engine, key, previous, owner, now + timedelta(seconds=hold_seconds)):
            break
        if time.monotonic() > deadline:
            raise LedgerError(f"timed out waiting for the {provider} token refresh lease of {account!r}")
        time.sleep(0.01 if free else 0.05)  # free but taken first by someone else: look again soon
    try:
        with _reading(engine) as connection:
            row = connection.execute(sa.select(oauth_tokens).where(key)).first()
        yield None if row is None else _from_row(row, cipher, abandoned=previous is not None)
    finally:
        _release(engine, key, owner)


def _take(
    engine: sa.Engine, key: sa.ColumnElement[bool], previous: str | None, owner: str, until: datetime
) -> bool:
    """Take the lease from ``previous`` (None: nobody); False if another process was first or the ledger
    stayed busy (the caller looks again)."""
    try:
        with engine.begin() as connection:
            return bool(
                connection.execute(
                    oauth_tokens.update()
                    .where(key & _owner_is(previous))
                    .values(lease_owner=owner, lease_until=until)
                ).rowcount
            )
    except sa.exc.OperationalError:
        return False


def _release(engine: sa.Engine, key: sa.ColumnElement[bool], owner: str) -> None:
    """Give the lease back; if the ledger stays busy, the lease lapses (or its dead holder is seen) later."""
    for pause in (0.0, 0.5, 2.0):
        time.sleep(pause)
        try:
            with engine.begin() as connection:
                connection.execute(
                    oauth_tokens.update()
                    .where(key & (oauth_tokens.c.lease_owner == owner))
                    .values(lease_owner=None, lease_until=None)
                )
            return
        except sa.exc.OperationalError:
            continue


def _owner_is(owner: str | None) -> sa.ColumnElement[bool]:
    return oauth_tokens.c.lease_owner.is_(None) if owner is None else oauth_tokens.c.lease_owner == owner


class TokenWrite:
    """The open transaction of :func:`refresh_write`; ``save`` stages the granted pair for its commit."""

    def __init__(self, connection: sa.Connection, cipher: TokenCipher, where: sa.ColumnElement[bool]) -> None:
        self._connection = connection
        self._cipher = cipher
        self._where = where
        self.saved = False

    def save(
        self, *, access_token: str, refresh_token: str | None, expires_at: datetime | None, scope: str | None
    ) -> None:
        values = _sealed_values(
            self._cipher,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            scope=scope,
        )
        self._connection.execute(
            oauth_tokens.update()
            .where(self._where)
            .values(generation=oauth_tokens.c.generation + 1, **values)
        )
        self.saved = True


@contextmanager
def refresh_write(
    engine: sa.Engine,
    cipher: TokenCipher,
    provider: str,
    account: str,
    *,
    generation: int,
    lease_owner: str | None,
) -> Iterator[TokenWrite]:
    """A transaction holding the write lock on one token, for one call of the token endpoint.

    It raises :class:`LedgerBusyError` when the lock cannot be had (nothing spent yet: retry) and
    :class:`LeaseLostError` when the token changed or the lease passed to another holder. The block calls
    the endpoint and ``save``; leaving it commits. SQLite's ``BEGIN IMMEDIATE`` takes the database's write
    lock; PostgreSQL locks the row (``FOR UPDATE``). Keep the block to one bounded HTTP call: other writers
    wait for it.
    """
    where = _key(provider, account) & (oauth_tokens.c.generation == generation)
    try:
        connection = engine.connect()
        transaction = connection.begin()
    except sa.exc.OperationalError as exc:
        raise LedgerBusyError(f"the ledger is busy: {exc.orig}") from None
    try:
        query = sa.select(oauth_tokens.c.lease_owner).where(where)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None or row.lease_owner != lease_owner:
            raise LeaseLostError(f"the {provider} token of {account!r} changed hands before it was refreshed")
        yield TokenWrite(connection, cipher, where)
        transaction.commit()
    finally:
        if transaction.is_active:
            transaction.rollback()
        connection.close()
