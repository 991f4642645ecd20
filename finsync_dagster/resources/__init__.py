"""Dagster resources: the API clients, the HTTP policy, the DuckDB warehouse and the ledger."""

from finsync_dagster.resources.ledger import LedgerResource
from finsync_dagster.resources.warehouse import WarehouseResource

__all__ = ["LedgerResource", "WarehouseResource"]
