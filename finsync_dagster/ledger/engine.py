"""Opening the ledger database from its one SQLAlchemy URL, and the UTC and URL-masking helpers.

SQLite (the default) needs three settings to be shared safely by several processes: WAL so the webhook
receiver reads while a run writes, a busy timeout so writers queue, and ``BEGIN IMMEDIATE`` so a
read-then-write transaction takes its lock up front. PostgreSQL needs none of them.

A process that promises durability (the webhook receiver answers 200 only after a commit) opens its engine
with ``synchronous="FULL"`` and checks :func:`durability`: in WAL mode SQLite's NORMAL survives a killed
process but may lose the last commits to a power cut or an OS crash; FULL syncs the WAL on every commit.
PostgreSQL's default (``synchronous_commit=on``) is durable; ``off`` is refused.
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

from finsync_dagster.errors import LedgerError

SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")  # PRAGMA synchronous answers the index


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


def make_engine(url: str, *, busy_timeout: float = 30.0, synchronous: str | None = None) -> sa.Engine:
    """The engine of the ledger at ``url``; ``synchronous`` sets SQLite's PRAGMA (ignored elsewhere)."""
    if synchronous is not None and synchronous.upper() not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
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
            if synchronous is not None:
                cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(connection: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred transaction
            # that reads and then writes fails at once if another process wrote in between.
            mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def durability(engine: sa.Engine) -> str:
    """What a commit survives on this engine, e.g. ``"sqlite synchronous=FULL, journal_mode=wal"``.

    Raises :class:`LedgerError` when a commit could be lost by a power cut or an OS crash.
    """
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as connection:
        if connection.dialect.name == "sqlite":
            level = SQLITE_SYNCHRONOUS[int(connection.exec_driver_sql("PRAGMA synchronous").scalar() or 0)]
            journal = str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()).lower()
            described = f"sqlite synchronous={level}, journal_mode={journal}"
            durable = level in ("FULL", "EXTRA")
        elif connection.dialect.name == "postgresql":
            commit = str(connection.exec_driver_sql("SHOW synchronous_commit").scalar())
            described = f"postgresql synchronous_commit={commit}"
            durable = commit != "off"
        else:
            return connection.dialect.name
    if not durable:
        raise LedgerError(f"the ledger is not durable ({described}): a commit could be lost to a crash")
    return described
