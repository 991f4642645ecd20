"""Write and read ``recon.*`` match tables in the pair's warehouse, each replaced in one transaction."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.recon.model import MATCH_TABLES

_MONEY = "DECIMAL(18,2)"


def replace_match_table(con: duckdb.DuckDBPyConnection, entity: str, table: pa.Table) -> int:
    """``recon.<entity>_matches`` becomes exactly ``table``; readers never see it half written."""
    name = MATCH_TABLES[entity]  # identifiers only from this constant
    con.execute("CREATE SCHEMA IF NOT EXISTS recon")
    con.register("__recon_matches", table)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM __recon_matches")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("__recon_matches")
    return table.num_rows


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(found[0][0])


def read_match_table(con: duckdb.DuckDBPyConnection, entity: str) -> pa.Table | None:
    """The entity's match table, or None when reconciliation has not run for this pair yet."""
    name = MATCH_TABLES[entity]
    if not table_exists(con, name):
        return None
    return con.sql(f"SELECT * FROM {name}").to_arrow_table()


def money(sql: str) -> str:
    """A SQL expression cast to the money type (DECIMAL, never a float)."""
    return f"CAST({sql} AS {_MONEY})"
