"""The ledger: transactional state shared by the webhook receiver, the daemon and runs.

One SQLAlchemy URL chooses the database (a SQLite file by default, PostgreSQL in production). DuckDB is
not used here because only one process may write a DuckDB file at a time.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger.schema import (
    LATEST_VERSION,
    MIGRATIONS,
    ledger_schema,
    oauth_tokens,
    sync_cursors,
)


def masked_url(url: str) -> str:
    """A database URL fit for logs, reprs and the Dagster UI: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "***"  # not a URL SQLAlchemy can read, so nothing tells where a password would be


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything in the ledger is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


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


class Ledger:
    """Cursors and tokens today; the inbox, outbox, crosswalk, dead letters and audit log join later."""

    def __init__(self, url: str, *, engine: sa.Engine | None = None) -> None:
        self.url = url
        self.engine = engine or _make_engine(url)

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logs and metadata."""
        return masked_url(self.url)

    # -- schema ------------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to the latest version; safe when many processes start at once.

        The whole migration runs in one transaction holding a database-wide lock (SQLite ``BEGIN
        IMMEDIATE``, a PostgreSQL advisory lock), so a second process waits and then finds nothing to do.
        """
        try:
            locked = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
            with locked as connection, connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                ledger_schema.create(connection, checkfirst=True)
                applied = _applied_version(connection)
                if applied > LATEST_VERSION:
                    raise LedgerError(
                        f"ledger at {self.safe_url} is at schema version {applied}, newer than this "
                        f"finsync ({LATEST_VERSION}); upgrade finsync"
                    )
                for version, description, apply in MIGRATIONS:
                    if version <= applied:
                        continue
                    apply(connection)
                    connection.execute(
                        ledger_schema.insert().values(
                            version=version, description=description, applied_at=utcnow()
                        )
                    )
        except sa.exc.OperationalError as exc:
            raise LedgerError(f"ledger at {self.safe_url} is unreachable: {exc.orig}") from None
        return self.schema_version()

    def schema_version(self) -> int:
        with self.engine.connect() as connection:
            return _applied_version(connection)

    # -- cursors -----------------------------------------------------------------------------------

    def get_cursor(self, pair: str, entity: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            raw = connection.execute(
                sa.select(sync_cursors.c.cursor).where(
                    sync_cursors.c.pair == pair, sync_cursors.c.entity == entity
                )
            ).scalar()
        return None if raw is None else json.loads(raw)

    def set_cursor(self, pair: str, entity: str, cursor: dict[str, Any]) -> None:
        """Advance a cursor; call only after the rows it covers are committed."""
        values = {"cursor": json.dumps(cursor, sort_keys=True), "updated_at": utcnow()}
        with self.engine.begin() as connection:
            updated = connection.execute(
                sync_cursors.update()
                .where(sync_cursors.c.pair == pair, sync_cursors.c.entity == entity)
                .values(**values)
            ).rowcount
            if not updated:
                connection.execute(sync_cursors.insert().values(pair=pair, entity=entity, **values))

    def clear_cursors(self, pair: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sync_cursors.delete().where(sync_cursors.c.pair == pair))

    # -- OAuth tokens ------------------------------------------------------------------------------

    def get_token(self, provider: str, account: str) -> StoredToken | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(oauth_tokens).where(
                    oauth_tokens.c.provider == provider, oauth_tokens.c.account == account
                )
            ).first()
        if row is None:
            return None
        return StoredToken(
            provider=row.provider,
            account=row.account,
            access_token=row.access_token,
            refresh_token=row.refresh_token,
            expires_at=_aware(row.expires_at),
            scope=row.scope,
            generation=row.generation,
        )

    def save_token(
        self,
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
        key = (oauth_tokens.c.provider == provider) & (oauth_tokens.c.account == account)
        with self.engine.begin() as connection:
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
        return self.get_token(provider, account)

    def delete_token(self, provider: str, account: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                oauth_tokens.delete().where(
                    oauth_tokens.c.provider == provider, oauth_tokens.c.account == account
                )
            )

    @contextmanager
    def refresh_lease(
        self, provider: str, account: str, *, hold_seconds: float = 30.0, wait_seconds: float = 60.0
    ) -> Iterator[StoredToken | None]:
        """Hold the right to refresh a token set, across processes.

        Refresh tokens are single-use, so two processes refreshing at once would burn one. The lease is a
        conditional UPDATE, atomic on SQLite and PostgreSQL alike. Inside the block the caller gets the
        token as it stands *after* acquiring the lease: if another process refreshed meanwhile, the caller
        sees the new token and need not refresh. A crashed holder's lease lapses after ``hold_seconds``.
        """
        owner = uuid.uuid4().hex
        key = (oauth_tokens.c.provider == provider) & (oauth_tokens.c.account == account)
        deadline = time.monotonic() + wait_seconds
        while True:
            now = utcnow()
            with self.engine.begin() as connection:
                taken = connection.execute(
                    oauth_tokens.update()
                    .where(key & (oauth_tokens.c.lease_until.is_(None) | (oauth_tokens.c.lease_until < now)))
                    .values(lease_owner=owner, lease_until=now + timedelta(seconds=hold_seconds))
                ).rowcount
            if taken:
                break
            if self.get_token(provider, account) is None:
                break  # nothing stored: nothing to protect
            if time.monotonic() > deadline:
                raise LedgerError(f"timed out waiting for the {provider} token refresh lease of {account!r}")
            time.sleep(0.05)
        try:
            yield self.get_token(provider, account)
        finally:
            with self.engine.begin() as connection:
                connection.execute(
                    oauth_tokens.update()
                    .where(key & (oauth_tokens.c.lease_owner == owner))
                    .values(lease_owner=None, lease_until=None)
                )


_MIGRATION_LOCK = 0x66696E73  # "fins": the PostgreSQL advisory lock key held while migrating


def _applied_version(connection: sa.Connection) -> int:
    if not sa.inspect(connection).has_table(ledger_schema.name):
        return 0
    return connection.execute(sa.select(sa.func.max(ledger_schema.c.version))).scalar() or 0


def _make_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite would not begin a transaction before DDL; finsync issues BEGIN itself (below).
            dbapi_connection.isolation_level = None
            # WAL lets the webhook receiver read while a run writes; busy_timeout queues writers.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(connection: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred transaction
            # that reads and then writes fails at once if another process wrote in between.
            mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    return sa.create_engine(url, pool_pre_ping=True)
