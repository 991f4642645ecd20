"""The SQL idioms every package uses on a DuckDB warehouse connection.

One templating rule holds everywhere: SQL is an f-string (a module constant, or a small function returning
one when a table name varies), never ``str.format`` or ``%``. What goes into the braces is an identifier
from a code constant that has passed through ``identifier``/``qualified`` (``TableSpec.qualified_name``,
``core.model.TABLES`` and the ``warehouse.schemas`` names are built that way); values are always bound
parameters (``?``, ``$name``, a Python list for ``list_contains($names, x)``), never spliced in.

The one exception is a column a person names in a mapping spec (an M3 field such as ``CUNO``, a CSV
enrichment's header): ``mapping.compile.quote`` double-quotes it, because such names are checked against
the live table's columns, not against the lower_snake rule.

A write that replaces rows runs inside ``transaction``, so readers never see it half done and an error (or
an interrupt) leaves the tables as they were; Arrow tables are handed to SQL through ``registered``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import duckdb

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def identifier(name: str) -> str:
    """``name`` when it is a plain lower_snake identifier; anything else never reaches SQL."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a warehouse identifier: {name!r}")
    return name


def qualified(schema: str, name: str) -> str:
    """``schema.name``, both parts checked by ``identifier``."""
    return f"{identifier(schema)}.{identifier(name)}"


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, **relations: object) -> Iterator[None]:
    """Arrow tables (or data frames) visible to SQL under the given names for the duration of the block."""
    try:
        for name, table in relations.items():
            con.register(identifier(name), table)
        yield
    finally:
        for name in relations:
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection, **relations: object) -> Iterator[None]:
    """BEGIN, run the block, COMMIT; ROLLBACK on any exception, interrupts included, and re-raise it.

    ``relations`` are registered (as ``registered`` does) before BEGIN and unregistered after.
    """
    with registered(con, **relations):
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            # A failed COMMIT has already ended the transaction; the original error is the one to raise.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise


def tables_in(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """The names of the tables (and views) in ``schema``; empty when the schema does not exist."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {row[0] for row in rows}


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``schema.name`` exists in the connection's current database."""
    schema, _, name = table.partition(".")
    return name in tables_in(con, schema)


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """``(column, type)`` of ``schema.name`` in order; empty when the table does not exist."""
    schema, _, name = table.partition(".")
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [(column, sql_type) for column, sql_type in rows]


def one_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, an ``UPDATE``'s count).

    DuckDB types ``fetchone()`` as maybe-``None`` for every query; here a missing row is a bug, said so.
    """
    row = result.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row
