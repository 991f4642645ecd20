"""Small in-memory warehouses holding ``core.*`` tables, for the matching tests."""

from __future__ import annotations

from typing import Any

import duckdb

from finsync_dagster.mapping import core_model


def core_db(**tables: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """Every core table (empty unless given rows); missing columns are NULL, ``updated_at`` too."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    for entity, schema in core_model.ENTITIES.items():
        con.execute(core_model.create_table_sql(entity))
        names = list(schema.fields)
        rows = tables.get(entity, [])
        for row in rows:
            unknown = set(row) - set(names)
            assert not unknown, f"core.{entity} has no column {unknown}"
        if rows:
            placeholders = ", ".join("?" for _ in names)
            con.executemany(
                f"INSERT INTO core.{entity} VALUES ({placeholders})",
                [[row.get(n) for n in names] for row in rows],
            )
    return con
