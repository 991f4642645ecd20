"""Opening the ledger database from its one SQLAlchemy URL, and the UTC and URL-masking helpers.

SQLite (the default) needs three settings to be shared safely by several processes: WAL so the webhook
receiver reads while a run writes, a busy timeout so writers queue, and ``BEGIN IMMEDIATE`` so a
read-then-write transaction takes its lock up front. PostgreSQL needs none of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def masked_url(url: str) -> str:
    """A database URL fit for logs, reprs and the Dagster UI: its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "***"  # not a URL SQLAlchemy can read, so nothing tells where a password would be


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything in the ledger is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def make_engine(url: str) -> sa.Engine:
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
