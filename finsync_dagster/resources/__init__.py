"""Dagster resources: the API clients, the HTTP policy, the DuckDB warehouse and the ledger.

Assets reach the clients through ``pair_clients.PairClients`` (key ``clients``); it is not re-exported
here so that importing the warehouse or the ledger does not import authlib.
"""

from finsync_dagster.resources.ledger import LedgerResource
from finsync_dagster.resources.warehouse import WarehouseResource

__all__ = ["LedgerResource", "WarehouseResource"]
