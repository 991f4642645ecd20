"""Small in-memory warehouses holding ``core.*`` tables, for the matching tests."""

from __future__ import annotations

from typing import Any

import duckdb

from finsync_dagster.core import model as core_model


def core_db(**tables: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """Every core table (empty unless given rows); missing columns are NULL, ``updated_at`` too."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    for entity, schema in core_model.ENTITIES.items():
        con.execute(core_model.create_table_sql(entity))
        names = list(schema.fields)
        for row in tables.get(entity, []):
            unknown = set(row) - set(names)
            assert not unknown, f"core.{entity} has no column {unknown}"
            placeholders = ", ".join("?" for _ in names)
            con.execute(f"INSERT INTO core.{entity} VALUES ({placeholders})", [row.get(n) for n in names])
    return con
