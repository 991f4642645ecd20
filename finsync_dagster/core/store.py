"""Write a built core entity into the warehouse's ``core`` schema, replacing it in one transaction."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.core import model as core_model


def replace_core_table(con: duckdb.DuckDBPyConnection, entity: str, table: pa.Table) -> int:
    """``core.<entity>`` becomes exactly ``table``; readers never see it half written."""
    schema = core_model.entity(entity)
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    existing = [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'core' "
            "AND table_name = ? ORDER BY ordinal_position",
            [entity],
        ).fetchall()
    ]
    if existing and existing != list(schema.names):
        # The core model gained or lost a field since this table was built; it is rebuilt in full anyway.
        con.execute(f"DROP TABLE core.{entity}")
    con.execute(core_model.create_table_sql(entity))
    columns = ", ".join(schema.names)
    name = f"__core_{entity}"
    con.register(name, table.select(schema.names))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DELETE FROM core.{entity}")
            con.execute(f"INSERT INTO core.{entity} ({columns}) SELECT {columns} FROM {name}")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister(name)
    return table.num_rows


REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS core.mapping_rejects (
  entity VARCHAR NOT NULL,
  spec VARCHAR NOT NULL,
  source_id VARCHAR,
  errors VARCHAR NOT NULL
)"""


def replace_rejects(con: duckdb.DuckDBPyConnection, entity: str, rejects: pa.Table) -> int:
    """``core.mapping_rejects`` holds, per entity, the rows the last build refused and why."""
    core_model.entity(entity)
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    con.execute(REJECTS_DDL)
    con.register("__rejects", rejects)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM core.mapping_rejects WHERE entity = ?", [entity])
            con.execute(
                "INSERT INTO core.mapping_rejects SELECT ?, spec, source_id, errors FROM __rejects", [entity]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("__rejects")
    return rejects.num_rows
