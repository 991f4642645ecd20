"""Opening the ledger database from its one SQLAlchemy URL, and the UTC and URL-masking helpers.

SQLite (the default) needs three settings to be shared safely by several processes: WAL so the webhook
receiver reads while a run writes, a busy timeout so writers queue, and ``BEGIN IMMEDIATE`` so a
read-then-write transaction takes its lock up front. PostgreSQL needs none of them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
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


def private_database_file(path: Path) -> None:
    """Create the SQLite file 0600 (it holds tokens) before SQLite does, and tighten an existing one.

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so they follow.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def _switch_to_wal(cursor: Any, busy_timeout: float) -> None:
    """Put the file in WAL mode, waiting out others as ``busy_timeout`` promises.

    WAL is a property of the file, so only the first connection of a fresh ledger changes it; that change
    needs the file to itself and SQLite answers "database is locked" at once, without calling the busy
    handler, when a second process is opening the same fresh file at that moment.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str, *, busy_timeout: float = 30.0) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_database_file(Path(parsed.database))
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite would not begin a transaction before DDL; finsync issues BEGIN itself (below).
            dbapi_connection.isolation_level = None
            # busy_timeout queues writers; WAL lets the webhook receiver read while a run writes.
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            _switch_to_wal(cursor, busy_timeout)
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(connection: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred transaction
            # that reads and then writes fails at once if another process wrote in between.
            mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    return sa.create_engine(url, pool_pre_ping=True)
