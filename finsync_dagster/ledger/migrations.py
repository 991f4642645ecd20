"""Applying ``schema.MIGRATIONS`` to a ledger: once each, in order, safely from many processes at once."""

from __future__ import annotations

import sqlalchemy as sa

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger.engine import masked_url, utcnow
from finsync_dagster.ledger.schema import LATEST_VERSION, MIGRATIONS, VERSIONS, ledger_schema

_MIGRATION_LOCK = 0x66696E73  # "fins": the PostgreSQL advisory lock key held while migrating


def migrate(engine: sa.Engine, url: str) -> int:
    """Bring the schema to the latest version and return it.

    Every migration the ledger has not recorded is applied, in version order, not only those above the
    highest recorded: versions may land out of order (a ledger at 4 still gets 3 when 3 arrives).
    The whole migration runs in one transaction holding a database-wide lock (SQLite ``BEGIN
    IMMEDIATE``, a PostgreSQL advisory lock), so a second process waits and then finds nothing to do.
    """
    try:
        locked = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with locked as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            ledger_schema.create(connection, checkfirst=True)
            applied = applied_versions(connection)
            unknown = applied - VERSIONS
            if unknown:
                raise LedgerError(
                    f"ledger at {masked_url(url)} has schema version {max(unknown)}, newer than this "
                    f"finsync knows (it knows up to {LATEST_VERSION}); upgrade finsync"
                )
            for version, description, apply in sorted(MIGRATIONS, key=lambda m: m[0]):
                if version in applied:
                    continue
                apply(connection)
                connection.execute(
                    ledger_schema.insert().values(
                        version=version, description=description, applied_at=utcnow()
                    )
                )
    except sa.exc.OperationalError as exc:
        raise LedgerError(f"ledger at {masked_url(url)} is unreachable: {exc.orig}") from None
    with engine.connect() as connection:
        return applied_version(connection)


def applied_versions(connection: sa.Connection) -> set[int]:
    return set(connection.execute(sa.select(ledger_schema.c.version)).scalars())


def applied_version(connection: sa.Connection) -> int:
    if not sa.inspect(connection).has_table(ledger_schema.name):
        return 0
    return connection.execute(sa.select(sa.func.max(ledger_schema.c.version))).scalar() or 0
