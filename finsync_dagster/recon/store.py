"""Write and read ``recon.*`` match tables in the pair's warehouse, each replaced in one transaction."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.recon.model import MATCH_TABLES
from finsync_dagster.warehouse import table_exists, transaction
from finsync_dagster.warehouse.schemas import RECON, ensure_schema

_MONEY = "DECIMAL(18,2)"


def replace_match_table(con: duckdb.DuckDBPyConnection, entity: str, table: pa.Table) -> int:
    """``recon.<entity>_matches`` becomes exactly ``table``; readers never see it half written."""
    name = MATCH_TABLES[entity]  # identifiers only from this constant
    ensure_schema(con, RECON)
    with transaction(con, __recon_matches=table):
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM __recon_matches")
    return int(table.num_rows)


def read_match_table(con: duckdb.DuckDBPyConnection, entity: str) -> pa.Table | None:
    """The entity's match table, or None when reconciliation has not run for this pair yet."""
    name = MATCH_TABLES[entity]
    if not table_exists(con, name):
        return None
    return con.sql(f"SELECT * FROM {name}").to_arrow_table()


def money(sql: str) -> str:
    """A SQL expression cast to the money type (DECIMAL, never a float)."""
    return f"CAST({sql} AS {_MONEY})"
