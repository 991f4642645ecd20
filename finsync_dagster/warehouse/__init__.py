"""The pair's DuckDB warehouse as finsync lays it out, and the few SQL idioms every package shares.

``schemas`` declares the four schemas (``staging``, ``quality``, ``core``, ``recon``) and the tables more
than one package writes or reads; ``sql`` holds the transaction block, the "does this table exist" check
the identifier rule and ``one_row`` for queries that always return a row. Pure: no Dagster (the Dagster resource is ``resources.warehouse``).
"""

from finsync_dagster.warehouse.sql import (
    columns_of,
    identifier,
    one_row,
    qualified,
    registered,
    table_exists,
    tables_in,
    transaction,
)

__all__ = [
    "columns_of",
    "identifier",
    "one_row",
    "qualified",
    "registered",
    "table_exists",
    "tables_in",
    "transaction",
]
